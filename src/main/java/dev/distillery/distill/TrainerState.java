package dev.distillery.distill;

import dev.distillery.distill.optim.ResumableOptimizer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a training needs to carry on after epoch {@code epoch} exactly as if it had never
 * stopped: the batch order, dropout and schedule are functions of the seed and the epoch, so the
 * parameters, the optimizer's state, the best epoch and the history are all there is.
 *
 * @param epoch the last finished epoch, 1-based
 * @param history every finished epoch, in order
 * @param parameters the parameters after epoch {@code epoch}
 * @param optimizer the optimizer's state by parameter name
 * @param best the best epoch so far
 */
public record TrainerState(
        int epoch,
        List<EpochStats> history,
        ParameterSnapshot parameters,
        Map<String, ResumableOptimizer.ParameterState> optimizer,
        BestEpoch.Best best) {

    public TrainerState {
        history = List.copyOf(history);
        optimizer = Collections.unmodifiableMap(new LinkedHashMap<>(optimizer));
    }
}
