package dev.distillery.distill.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.ParameterList;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * AdamW and SGD against {@code torch.optim} on a tiny parameter (reference values from
 * {@code src/test/python/distillation_reference.py}), and their state read out and put back exactly.
 */
class ResumableOptimizerTest {

    private static NDManager manager;

    @BeforeAll
    static void openManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void closeManager() {
        manager.close();
    }

    static Stream<Arguments> pytorchCases() throws IOException {
        try (InputStream in = ResumableOptimizerTest.class.getResourceAsStream("/dev/distillery/distill/reference.json")) {
            JsonNode cases = new ObjectMapper().readTree(in).get("optimizers");
            return StreamSupport.stream(cases.spliterator(), false).map(c -> Arguments.of(String.format(
                    "%s weight_decay=%s momentum=%s nesterov=%s", c.get("name").asText(), c.get("weight_decay"),
                    c.get("momentum"), c.get("nesterov")), c));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pytorchCases")
    void stepsMatchTorchOptim(String name, JsonNode c) {
        ResumableOptimizer optimizer = optimizer(c);
        Shape shape = new Shape(c.get("shape").get(0).longValue(), c.get("shape").get(1).longValue());
        NDArray weight = manager.create(floats(c.get("initial")), shape);
        ParameterList parameters = parameters(weight);
        for (int step = 0; step < c.get("learning_rates").size(); step++) {
            optimizer.setLearningRate(c.get("learning_rates").get(step).floatValue());
            optimizer.update(parameters.get(0).getValue().getId(), weight,
                    manager.create(floats(c.get("gradients").get(step)), shape));
            assertClose(floats(c.get("parameters").get(step)), weight.toFloatArray(), "after step " + (step + 1));
        }

        Map<String, ResumableOptimizer.ParameterState> state = optimizer.state(parameters);
        JsonNode expected = c.get("state");
        if (c.get("name").asText().equals("adamw")) {
            assertEquals(expected.get("step").longValue(), state.get("w").steps());
            assertClose(floats(expected.get("exp_avg")), state.get("w").slots().get(0), "exp_avg");
            assertClose(floats(expected.get("exp_avg_sq")), state.get("w").slots().get(1), "exp_avg_sq");
        } else if (expected.has("momentum_buffer")) {
            assertClose(floats(expected.get("momentum_buffer")), state.get("w").slots().get(0), "momentum_buffer");
        } else {
            assertEquals(List.of(), state.get("w").slots());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pytorchCases")
    void restoredStateTakesTheSameStepsBitForBit(String name, JsonNode c) {
        Shape shape = new Shape(c.get("shape").get(0).longValue(), c.get("shape").get(1).longValue());
        int steps = c.get("gradients").size();
        int half = steps / 2;

        ResumableOptimizer straight = optimizer(c);
        NDArray straightWeight = manager.create(floats(c.get("initial")), shape);
        ParameterList straightParameters = parameters(straightWeight);
        ResumableOptimizer first = optimizer(c);
        NDArray resumedWeight = manager.create(floats(c.get("initial")), shape);
        ParameterList firstParameters = parameters(resumedWeight);
        for (int step = 0; step < half; step++) {
            straight.update(straightParameters.get(0).getValue().getId(), straightWeight, gradient(c, step));
            first.update(firstParameters.get(0).getValue().getId(), resumedWeight, gradient(c, step));
        }
        // A new optimizer and a new parameter object (new id), as after a restart.
        ResumableOptimizer second = optimizer(c);
        ParameterList secondParameters = parameters(resumedWeight);
        second.restore(first.state(firstParameters), secondParameters);
        for (int step = half; step < steps; step++) {
            straight.update(straightParameters.get(0).getValue().getId(), straightWeight, gradient(c, step));
            second.update(secondParameters.get(0).getValue().getId(), resumedWeight, gradient(c, step));
        }

        assertArrayEquals(straightWeight.toFloatArray(), resumedWeight.toFloatArray());
    }

    @Test
    void anUpdateClearsTheGradientForTheNextBackwardPass() {
        NDArray weight = manager.create(new float[] {1, 2});
        weight.setRequiresGradient(true);
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            collector.backward(weight.mul(manager.create(new float[] {0.5f, -0.5f})).sum());
        }
        ResumableOptimizer optimizer = new SgdOptimizer(0.1f, 0, 0.9f, false);

        // As DJL's parameter server calls it: with a copy of the gradient.
        optimizer.update("w", weight, weight.getGradient().duplicate());

        assertArrayEquals(new float[] {0.95f, 2.05f}, weight.toFloatArray(), 1e-7f);
        assertArrayEquals(new float[] {0, 0}, weight.getGradient().toFloatArray());
    }

    @Test
    void theNamesAreTheCatalogue() {
        assertEquals(List.of("adamw", "sgd"), List.copyOf(Optimizers.names()));
    }

    private static ResumableOptimizer optimizer(JsonNode c) {
        float rate = c.get("learning_rates").get(0).floatValue();
        float decay = c.get("weight_decay").floatValue();
        return c.get("name").asText().equals("adamw") ? new AdamWOptimizer(rate, decay)
                : new SgdOptimizer(rate, decay, c.get("momentum").floatValue(), c.get("nesterov").booleanValue());
    }

    /** The gradient of step {@code step}. */
    private static NDArray gradient(JsonNode c, int step) {
        JsonNode shape = c.get("shape");
        return manager.create(floats(c.get("gradients").get(step)),
                new Shape(shape.get(0).longValue(), shape.get(1).longValue()));
    }

    private static ParameterList parameters(NDArray weight) {
        ParameterList list = new ParameterList();
        list.add("w", Parameter.builder().setName("w").setType(Parameter.Type.WEIGHT).optArray(weight).build());
        return list;
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5 * Math.max(1, Math.abs(expected[i])), what + " [" + i + "]");
        }
    }

    private static float[] floats(JsonNode array) {
        float[] values = new float[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) array.get(i).doubleValue();
        }
        return values;
    }
}
