package dev.distillery.distill;

import ai.djl.Model;
import java.util.List;

/**
 * A trained student: its DJL model, holding the parameters of its best epoch and native memory until
 * {@link #close()}, and what each epoch achieved.
 *
 * @param history every epoch run, in order
 * @param bestEpoch the epoch whose parameters the model holds (1-based)
 * @param earlyStopped true when early stopping ended the run before its last epoch
 */
public record TrainedStudent(Model model, List<EpochStats> history, int bestEpoch, boolean earlyStopped)
        implements AutoCloseable {

    public TrainedStudent {
        history = List.copyOf(history);
    }

    /** The statistics of the exported epoch. */
    public EpochStats best() {
        return history.get(bestEpoch - 1);
    }

    @Override
    public void close() {
        model.close();
    }
}
