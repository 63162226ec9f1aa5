package dev.distillery.distill;

import dev.distillery.distill.methods.DistillationMethod;
import dev.distillery.distill.methods.DistillationMethods;
import dev.distillery.export.OnnxExporter;
import dev.distillery.model.Network;
import dev.distillery.v1.Distillation;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.TrialResult;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Trains one student per setting of a recipe's sweep, every (temperature, alpha) pair of its lists,
 * on the same data and teacher outputs and from the same initial parameters, and keeps the best by
 * validation accuracy (ties: the earlier setting). A recipe without a sweep is a sweep of its one
 * setting. Each setting gets the whole training treatment (schedule, best epoch, early stopping).
 *
 * <p>Progress goes to a {@link CheckpointFile} after every epoch and every finished setting, and a run
 * started from a saved {@link SweepProgress} carries on where it stopped: finished settings are not
 * trained again, the one under way resumes after its last finished epoch.
 */
public final class SweepRun {

    /** Hears about every epoch and every finished setting, on the training thread. */
    public interface Listener {

        /** @param trial the setting's {@link #label}; empty when the recipe has no sweep */
        void onEpoch(String trial, EpochStats stats);

        /** A setting has finished (only for a recipe with a sweep); {@code chosen} is not yet known. */
        void onTrial(TrialResult result);
    }

    /**
     * What the sweep kept.
     *
     * @param chosen what the best setting made
     * @param trials every setting in the order run, the best one marked {@code chosen}; empty without
     *     a sweep
     */
    public record Outcome(TrialOutcome chosen, List<TrialResult> trials) {}

    private final Recipe recipe;
    private final TrainingDevice device;
    private final CheckpointFile checkpoints;

    /** @param recipe resolved by {@link Recipes} */
    public SweepRun(Recipe recipe, TrainingDevice device, CheckpointFile checkpoints) {
        this.recipe = recipe;
        this.device = device;
        this.checkpoints = checkpoints;
    }

    /** True when the resolved distillation lists temperatures or alphas to try. */
    public static boolean isSweep(Distillation distillation) {
        return distillation.getSweep().getTemperaturesCount() + distillation.getSweep().getAlphasCount() > 0;
    }

    /** True when some setting of the resolved distillation learns from the teacher's outputs. */
    public static boolean usesTeacher(Distillation distillation) {
        DistillationMethod method = DistillationMethods.get(distillation.getMethod());
        return settings(distillation).stream().anyMatch(method::usesTeacher);
    }

    /**
     * Every setting to train, temperature-major: each temperature of the sweep (or the one setting's)
     * with each alpha (likewise), without the sweep lists.
     */
    public static List<Distillation> settings(Distillation distillation) {
        List<Float> temperatures = distillation.getSweep().getTemperaturesCount() > 0
                ? distillation.getSweep().getTemperaturesList() : List.of(distillation.getTemperature().getValue());
        List<Float> alphas = distillation.getSweep().getAlphasCount() > 0
                ? distillation.getSweep().getAlphasList() : List.of(distillation.getAlpha().getValue());
        List<Distillation> settings = new ArrayList<>();
        for (float temperature : temperatures) {
            for (float alpha : alphas) {
                Distillation.Builder setting = distillation.toBuilder().clearSweep();
                setting.getTemperatureBuilder().setValue(temperature);
                setting.getAlphaBuilder().setValue(alpha);
                settings.add(setting.build());
            }
        }
        return settings;
    }

    /** A setting's name in events, e.g. "T=2 alpha=0.9". */
    public static String label(Distillation setting) {
        return "T=" + decimal(setting.getTemperature().getValue()) + " alpha=" + decimal(setting.getAlpha().getValue());
    }

    /**
     * Trains every setting not finished in {@code start} and returns the best.
     *
     * @throws java.util.concurrent.CancellationException when {@code cancelled} turned true
     */
    public Outcome run(Network network, StudentData data, SweepProgress start, Listener listener,
            BooleanSupplier cancelled) {
        boolean sweep = isSweep(recipe.getDistillation());
        List<Distillation> settings = settings(recipe.getDistillation());
        SweepProgress progress = start;
        for (int i = progress.trials().size(); i < settings.size(); i++) {
            Distillation setting = settings.get(i);
            String label = sweep ? label(setting) : "";
            SweepProgress before = progress;
            StudentTrainer trainer = new StudentTrainer(TrainingOptions.of(recipe, setting, device));
            try (TrainedStudent student = trainer.train(network, data, progress.current(),
                    stats -> listener.onEpoch(label, stats), state -> checkpoints.save(before.during(state)),
                    cancelled)) {
                byte[] onnx = new OnnxExporter().export(network, student.model().getBlock());
                TrialResult result = TrialResult.newBuilder()
                        .setTemperature(setting.getTemperature().getValue())
                        .setAlpha(setting.getAlpha().getValue())
                        .setBestValidationAccuracy(student.best().validationAccuracy())
                        .setBestEpoch(student.bestEpoch())
                        .setEpochsRun(student.history().size())
                        .build();
                progress = progress.after(result,
                        new TrialOutcome(student.best(), student.history().size(), student.earlyStopped(), onnx));
            }
            checkpoints.save(progress);
            if (sweep) {
                listener.onTrial(progress.trials().get(i));
            }
        }
        List<TrialResult> trials = new ArrayList<>();
        for (int i = 0; sweep && i < progress.trials().size(); i++) {
            trials.add(progress.trials().get(i).toBuilder().setChosen(i == progress.bestTrial()).build());
        }
        return new Outcome(progress.best(), trials);
    }

    /** 2.0 as "2", 0.9 as "0.9": the float's shortest decimal, without trailing zeros. */
    private static String decimal(float value) {
        return new BigDecimal(Float.toString(value)).stripTrailingZeros().toPlainString();
    }
}
