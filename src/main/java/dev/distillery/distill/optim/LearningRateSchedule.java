package dev.distillery.distill.optim;

import dev.distillery.v1.Schedule;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The learning rate at every optimizer step of a run: a linear warm-up, then a constant, cosine or
 * step schedule, for base rate {@code η}, {@code E} epochs of {@code S} steps each and {@code W}
 * warm-up epochs. A step's position is {@code p = (epoch − 1) + i / S}, in epochs, for its 0-based
 * index {@code i} within the epoch:
 *
 * <pre>
 * rate     = η · warm-up · decay
 * warm-up  = min(1, (p + 1/S) / W)                   1 when W = 0: reaches 1 at the last warm-up step
 * constant: decay = 1
 * cosine:   decay = ½ · (1 + cos(π · (p − W) / (E − W)))     for p ≥ W, else 1: to 0 at the run's end
 * step:     decay = γ^(number of milestones m < epoch)        milestone m: after epoch m
 * </pre>
 *
 * <p>Warm-up and cosine move every step, as torchdistill's iteration-wise warm-up does; step decays
 * between epochs, as PyTorch's {@code MultiStepLR} stepped once an epoch.
 */
public final class LearningRateSchedule {

    /** The schedules a recipe can name. */
    public enum Kind {
        CONSTANT, COSINE, STEP;

        public String recipeName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Kind kind;
    private final float baseRate;
    private final int epochs;
    private final int warmupEpochs;
    private final List<Integer> milestones;
    private final float gamma;

    private LearningRateSchedule(Kind kind, float baseRate, int epochs, int warmupEpochs, List<Integer> milestones,
            float gamma) {
        this.kind = kind;
        this.baseRate = baseRate;
        this.epochs = epochs;
        this.warmupEpochs = warmupEpochs;
        this.milestones = List.copyOf(milestones);
        this.gamma = gamma;
    }

    /** Every schedule's recipe name, sorted. */
    public static Set<String> names() {
        return Stream.of(Kind.values()).map(Kind::recipeName).collect(Collectors.toCollection(TreeSet::new));
    }

    /** The kind a recipe names; null when none has that name. */
    public static Kind kind(String name) {
        return Stream.of(Kind.values()).filter(k -> k.recipeName().equals(name)).findFirst().orElse(null);
    }

    /** The schedule of a resolved {@code schedule} (name and gamma filled in) over {@code epochs}. */
    public static LearningRateSchedule of(Schedule schedule, float baseRate, int epochs) {
        return new LearningRateSchedule(kind(schedule.getName()), baseRate, epochs, schedule.getWarmupEpochs(),
                schedule.getMilestonesList(), schedule.getGamma().getValue());
    }

    /**
     * The rate of step {@code step} (0-based) of epoch {@code epoch} (1-based) of {@code stepsPerEpoch}.
     */
    public float rate(int epoch, int step, int stepsPerEpoch) {
        double position = (epoch - 1) + (double) step / stepsPerEpoch;
        double warmup = warmupEpochs == 0 ? 1 : Math.min(1, (position + 1.0 / stepsPerEpoch) / warmupEpochs);
        double decay = switch (kind) {
            case CONSTANT -> 1;
            case COSINE -> position < warmupEpochs ? 1
                    : 0.5 * (1 + Math.cos(Math.PI * (position - warmupEpochs) / (epochs - warmupEpochs)));
            case STEP -> Math.pow(gamma, milestones.stream().filter(m -> m < epoch).count());
        };
        return (float) (baseRate * warmup * decay);
    }
}
