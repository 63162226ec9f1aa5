package dev.distillery.client;

import dev.distillery.v1.EpochProgress;
import dev.distillery.v1.Finished;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.TrialResult;
import java.math.BigDecimal;

/** One line of text per job event, as the demo and the command line print a job's progress. */
public final class ProgressLines {

    private ProgressLines() {}

    /** The line for {@code event}; empty for an event of a kind this client does not know. */
    public static String of(JobEvent event) {
        return switch (event.getEventCase()) {
            case QUEUED -> String.format("job %s queued (%d ahead)", event.getJobId(), event.getQueued().getPosition());
            case STAGE -> event.getStage().getName() + ": " + event.getStage().getMessage();
            case EPOCH -> epoch(event.getEpoch());
            case TRIAL -> trial(event.getTrial());
            case FINISHED -> finished(event.getFinished());
            case FAILED -> String.format("job %s failed: %s", event.getJobId(), event.getFailed().getMessage());
            case CANCELLED -> String.format("job %s was cancelled", event.getJobId());
            case EVENT_NOT_SET -> "";
        };
    }

    /** "[T=2 alpha=0.9] epoch 3/10  loss 0.4121  val acc 86.20 %  11034 images/s  ETA 2 min 05 s". */
    public static String epoch(EpochProgress p) {
        String trial = p.getTrial().isEmpty() ? "" : "[" + p.getTrial() + "] ";
        return String.format("%sepoch %d/%d  loss %.4f  val acc %.2f %%  %.0f images/s  ETA %s", trial, p.getEpoch(),
                p.getEpochs(), p.getTrainLoss(), 100 * p.getValidationAccuracy(), p.getImagesPerSecond(),
                duration(p.getEtaSeconds()));
    }

    private static String trial(TrialResult t) {
        return String.format("trial T=%s alpha=%s: best val acc %.2f %% at epoch %d of %d%s", plain(t.getTemperature()),
                plain(t.getAlpha()), 100 * t.getBestValidationAccuracy(), t.getBestEpoch(), t.getEpochsRun(),
                t.getChosen() ? " (kept)" : "");
    }

    private static String finished(Finished f) {
        String best = f.getBestEpoch() > 0
                ? String.format(" (best epoch %d, val acc %.2f %%)", f.getBestEpoch(), 100 * f.getValidationAccuracy())
                : "";
        return String.format("finished in %.0f s: %s version %d%s", f.getSeconds(), f.getModel().getName(),
                f.getModel().getVersion(), best);
    }

    /** Seconds as a person reads them: "42 s", "3 min 05 s", "1 h 07 min". */
    static String duration(double seconds) {
        long s = Math.round(Math.max(0, seconds));
        if (s < 60) {
            return s + " s";
        }
        if (s < 3600) {
            return String.format("%d min %02d s", s / 60, s % 60);
        }
        return String.format("%d h %02d min", s / 3600, s % 3600 / 60);
    }

    /** 2.0f as "2", 0.9f as "0.9": a setting as it was written, without float noise. */
    private static String plain(float value) {
        return new BigDecimal(Float.toString(value)).stripTrailingZeros().toPlainString();
    }
}
