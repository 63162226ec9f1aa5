package dev.distillery.distill.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import ai.djl.nn.ParameterList;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.util.Pair;
import dev.distillery.error.DistilleryException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An optimizer whose per-parameter state (step count and slot arrays such as momentum or Adam's
 * moments) can be read out and put back exactly, so that a run resumed from a checkpoint takes the
 * same steps as one that never stopped. DJL's optimizers keep that state private, and DJL's
 * {@code Nag} has no PyTorch-engine implementation; these follow {@code torch.optim} to the formula.
 *
 * <p>The learning rate is set by the training loop before each step (from its schedule). DJL's
 * gradient rescaling, clipping and update counters are not used. Each update runs in an
 * {@link NDScope}, so its temporaries are freed at once; the weight and the slots change in place,
 * and the weight's gradient is zeroed for the next backward pass.
 */
public abstract class ResumableOptimizer extends Optimizer {

    /** By DJL parameter id. */
    private final Map<String, Slots> slots = new ConcurrentHashMap<>();
    private final int slotCount;
    private float learningRate;

    /** @param slotCount arrays of state per parameter, each shaped like the parameter */
    protected ResumableOptimizer(int slotCount, float learningRate) {
        super(new Unused());
        this.slotCount = slotCount;
        this.learningRate = learningRate;
    }

    /** The step size of the next steps. */
    public void setLearningRate(float learningRate) {
        this.learningRate = learningRate;
    }

    public float learningRate() {
        return learningRate;
    }

    @Override
    public final void update(String parameterId, NDArray weight, NDArray grad) {
        Slots state = slots.computeIfAbsent(parameterId, id -> new Slots(weight, slotCount));
        state.steps++;
        try (NDScope scope = new NDScope()) {
            step(weight, grad, state.arrays, state.steps, learningRate);
            // The PyTorch engine adds each backward pass's gradients to the last ones, and DJL hands
            // the optimizer a copy; DJL's own optimizers clear the weight's gradient after the update,
            // and so must these.
            if (weight.hasGradient()) {
                NDArray accumulated = weight.getGradient();
                accumulated.subi(accumulated);
            }
        }
    }

    /**
     * One step of the update rule, in place on {@code weight} and {@code slots}.
     *
     * @param steps 1 on a parameter's first step
     */
    protected abstract void step(NDArray weight, NDArray grad, NDArray[] slots, long steps, float learningRate);

    /** The state of every parameter (a block's) that has taken a step, by parameter name. */
    public Map<String, ParameterState> state(ParameterList parameters) {
        Map<String, ParameterState> state = new LinkedHashMap<>();
        for (Pair<String, Parameter> named : parameters) {
            Slots s = slots.get(named.getValue().getId());
            if (s != null) {
                List<float[]> values = new ArrayList<>();
                for (NDArray array : s.arrays) {
                    values.add(array.toFloatArray());
                }
                state.put(named.getKey(), new ParameterState(s.steps, values));
            }
        }
        return state;
    }

    /**
     * Puts back the state {@link #state} read out, onto the parameters of the same names.
     *
     * @throws DistilleryException FAILED_PRECONDITION when the state does not fit the parameters
     */
    public void restore(Map<String, ParameterState> state, ParameterList parameters) {
        slots.clear();
        for (Pair<String, Parameter> named : parameters) {
            ParameterState saved = state.get(named.getKey());
            if (saved == null) {
                continue;
            }
            NDArray weight = named.getValue().getArray();
            if (saved.slots().size() != slotCount) {
                throw DistilleryException.precondition("optimizer state of %s has %d slots, this optimizer keeps %d",
                        named.getKey(), saved.slots().size(), slotCount);
            }
            Slots s = new Slots(weight, slotCount);
            s.steps = saved.steps();
            for (int i = 0; i < slotCount; i++) {
                if (saved.slots().get(i).length != weight.size()) {
                    throw DistilleryException.precondition("optimizer state of %s holds %d values, the parameter %d",
                            named.getKey(), saved.slots().get(i).length, weight.size());
                }
                s.arrays[i].set(saved.slots().get(i));
            }
            slots.put(named.getValue().getId(), s);
        }
    }

    /**
     * One parameter's optimizer state.
     *
     * @param steps steps the parameter has taken
     * @param slots the slot arrays' values, each as long as the parameter
     */
    public record ParameterState(long steps, List<float[]> slots) {}

    /** Zero-initialised slots live with the weight, outside any scope, until the model closes. */
    private static final class Slots {
        final NDArray[] arrays;
        long steps;

        Slots(NDArray weight, int count) {
            arrays = new NDArray[count];
            for (int i = 0; i < count; i++) {
                arrays[i] = weight.zerosLike();
                NDScope.unregister(arrays[i]);
            }
        }
    }

    /** DJL's base class wants a builder; none of its options is used. */
    private static final class Unused extends OptimizerBuilder<Unused> {
        @Override
        protected Unused self() {
            return this;
        }
    }
}
