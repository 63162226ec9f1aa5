package dev.distillery.distill;

import ai.djl.Model;
import java.util.List;

/**
 * A trained student: its DJL model, which holds native memory until {@link #close()}, and what each
 * epoch achieved.
 */
public record TrainedStudent(Model model, List<EpochStats> history) implements AutoCloseable {

    public TrainedStudent {
        history = List.copyOf(history);
    }

    @Override
    public void close() {
        model.close();
    }
}
