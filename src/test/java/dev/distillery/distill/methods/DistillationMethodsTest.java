package dev.distillery.distill.methods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.loss.Loss;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.FloatValue;
import com.google.protobuf.Int32Value;
import dev.distillery.error.DistilleryException;
import dev.distillery.v1.Distillation;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The catalogue's methods against PyTorch: losses and their gradients on fixed inputs, computed by
 * {@code src/test/python/distillation_reference.py} into {@code reference.json}.
 */
class DistillationMethodsTest {

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
        try (InputStream in = DistillationMethodsTest.class.getResourceAsStream("/dev/distillery/distill/reference.json")) {
            JsonNode losses = new ObjectMapper().readTree(in).get("losses");
            return StreamSupport.stream(losses.spliterator(), false).map(c -> Arguments.of(String.format(
                    "%s T=%s alpha=%s beta=%s epoch=%s/%s smoothing=%s labels=%s", c.get("method").asText(),
                    c.get("temperature"), c.get("alpha"), c.get("beta"), c.get("epoch"), c.get("warmup_epochs"),
                    c.get("label_smoothing"), c.get("labels")), c));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pytorchCases")
    void lossAndGradientMatchPyTorch(String name, JsonNode c) {
        DistillationMethod method = DistillationMethods.get(c.get("method").asText());
        Distillation.Builder given = Distillation.newBuilder().setMethod(method.name())
                .setTemperature(FloatValue.of(c.get("temperature").floatValue()))
                .setAlpha(FloatValue.of(c.get("alpha").floatValue()));
        if (method.name().equals("dkd")) {
            given.setBeta(FloatValue.of(c.get("beta").floatValue()))
                    .setWarmupEpochs(Int32Value.of(c.get("warmup_epochs").intValue()));
        }
        Loss loss = method.loss(method.resolve(given.build(), true), c.get("label_smoothing").floatValue(),
                c.get("epoch").intValue());
        Shape shape = new Shape(c.get("batch").intValue(), c.get("classes").intValue());
        NDArray student = manager.create(floats(c.get("student")), shape);
        student.setRequiresGradient(true);
        NDList labels = new NDList(manager.create(ints(c.get("labels"))), manager.create(floats(c.get("teacher")), shape));

        float actual;
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray value = loss.evaluate(labels, new NDList(student));
            collector.backward(value);
            actual = value.getFloat();
        }
        float[] gradient = student.getGradient().toFloatArray();

        double expected = c.get("loss").doubleValue();
        assertEquals(expected, actual, 1e-5 * Math.max(1, Math.abs(expected)), "loss");
        float[] expectedGradient = floats(c.get("gradient"));
        double scale = 0;
        for (float g : expectedGradient) {
            scale = Math.max(scale, Math.abs(g));
        }
        for (int i = 0; i < gradient.length; i++) {
            assertEquals(expectedGradient[i], gradient[i], 1e-5 * Math.max(1, scale), "gradient " + i);
        }
    }

    @Test
    void theCatalogueNamesItsMethods() {
        assertEquals(List.of("dkd", "kd"), new ArrayList<>(DistillationMethods.names()));
        assertSame(KnowledgeDistillationLoss.METHOD, DistillationMethods.get(""));
        assertSame(DecoupledKnowledgeDistillationLoss.METHOD, DistillationMethods.get("dkd"));
        DistilleryException e = assertThrows(DistilleryException.class, () -> DistillationMethods.get("foo"));
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, e.kind());
        assertEquals("distillation.method 'foo' is unknown; known methods: [dkd, kd]", e.getMessage());
        for (String name : DistillationMethods.names()) {
            assertEquals(TeacherSignal.LOGITS, DistillationMethods.get(name).signal());
        }
    }

    @Test
    void dkdFillsMdistillersDefaultsAndChecksItsRanges() {
        DistillationMethod dkd = DistillationMethods.get("dkd");
        Distillation resolved = dkd.resolve(Distillation.newBuilder().setMethod("dkd").build(), true);
        assertEquals(4f, resolved.getTemperature().getValue());
        assertEquals(1f, resolved.getAlpha().getValue());
        assertEquals(8f, resolved.getBeta().getValue());
        assertEquals(20, resolved.getWarmupEpochs().getValue());
        assertTrue(dkd.usesTeacher(resolved));

        assertInvalid("distillation.beta must be >= 0, got -1.0",
                () -> dkd.resolve(resolved.toBuilder().setBeta(FloatValue.of(-1)).build(), true));
        assertInvalid("distillation.alpha must be >= 0, got -0.5",
                () -> dkd.resolve(resolved.toBuilder().setAlpha(FloatValue.of(-0.5f)).build(), true));
        assertInvalid("distillation.temperature must be > 0, got 0.0",
                () -> dkd.resolve(resolved.toBuilder().setTemperature(FloatValue.of(0)).build(), true));
        assertInvalid("distillation.warmup_epochs must be >= 0 (0 = full weight from the first epoch), got -1",
                () -> dkd.resolve(resolved.toBuilder().setWarmupEpochs(Int32Value.of(-1)).build(), true));
    }

    @Test
    void dkdWarmsItsTermUpLinearly() {
        assertEquals(0.05f, DecoupledKnowledgeDistillationLoss.warmupWeight(1, 20));
        assertEquals(0.25f, DecoupledKnowledgeDistillationLoss.warmupWeight(5, 20));
        assertEquals(1f, DecoupledKnowledgeDistillationLoss.warmupWeight(20, 20));
        assertEquals(1f, DecoupledKnowledgeDistillationLoss.warmupWeight(40, 20));
        assertEquals(1f, DecoupledKnowledgeDistillationLoss.warmupWeight(1, 0));
    }

    private static void assertInvalid(String message, Runnable action) {
        DistilleryException e = assertThrows(DistilleryException.class, action::run);
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, e.kind());
        assertEquals(message, e.getMessage());
    }

    private static float[] floats(JsonNode array) {
        float[] values = new float[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) array.get(i).doubleValue();
        }
        return values;
    }

    private static int[] ints(JsonNode array) {
        int[] values = new int[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).intValue();
        }
        return values;
    }
}
