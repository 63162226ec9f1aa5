package dev.distillery.distill;

import dev.distillery.v1.TrialResult;
import java.util.ArrayList;
import java.util.List;

/**
 * How far a job's sweep has come: what is in its checkpoint. A recipe without a sweep is a sweep of
 * one setting.
 *
 * @param trials the settings finished so far, in order
 * @param bestTrial index in {@code trials} of the best so far; -1 before the first has finished
 * @param best what the best setting made; null before the first has finished
 * @param current the setting under way, after its last finished epoch; null between settings
 */
public record SweepProgress(List<TrialResult> trials, int bestTrial, TrialOutcome best, TrainerState current) {

    /** Nothing done yet. */
    public static final SweepProgress START = new SweepProgress(List.of(), -1, null, null);

    public SweepProgress {
        trials = List.copyOf(trials);
    }

    /** The same progress with the setting under way at {@code state}. */
    SweepProgress during(TrainerState state) {
        return new SweepProgress(trials, bestTrial, best, state);
    }

    /**
     * The progress once the setting under way has ended: it is kept when it beats the best so far on
     * validation accuracy (ties: the earlier setting stays).
     */
    SweepProgress after(TrialResult result, TrialOutcome outcome) {
        List<TrialResult> done = new ArrayList<>(trials);
        done.add(result);
        boolean better = best == null
                || result.getBestValidationAccuracy() > trials.get(bestTrial).getBestValidationAccuracy();
        return better ? new SweepProgress(done, done.size() - 1, outcome, null)
                : new SweepProgress(done, bestTrial, best, null);
    }
}
