package dev.distillery.serve;

import static dev.distillery.serve.OnnxModels.FLOAT;
import static dev.distillery.serve.OnnxModels.tensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.data.BlankPng;
import dev.distillery.error.DistilleryException;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.Preprocessing;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The serving core on real ONNX Runtime sessions of tiny linear classifiers (1 x 2 x 2 inputs, 3
 * classes): "batched" goes through its dynamic batcher (its own settings: a preferred batch of 8 and
 * an hour's delay, so every batch is exactly 8 rows), "plain" runs unbatched (the defaults), "single"
 * fixes batch 1 in its ONNX file.
 */
class PredictorTest {

    private static final int MAX_INPUTS = 16;
    private static final long MAX_PIXELS = 1 << 24;
    private static final Batching EIGHT_AT_A_TIME = new Batching(true, List.of(8), 8, 3_600_000_000L, 64);

    @TempDir
    Path temp;

    private ModelStore store;

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ExecutorService callers = Executors.newCachedThreadPool();
    private ModelSessions sessions;
    private Predictor predictor;

    @BeforeEach
    void start() {
        store = new ModelStore(temp);
        ModelInfo card = ModelInfo.newBuilder().addLabels("a").addLabels("b").addLabels("c")
                .addInputShape(1).addInputShape(2).addInputShape(2)
                .setPreprocessing(Preprocessing.newBuilder().setColor("gray").addMean(0).addStd(1)).build();
        byte[] classifier = OnnxModels.classifier(1, 2, 2, 3).bytes();
        store.add("batched", classifier, card);
        store.add("plain", classifier, card);
        store.add("single", OnnxModels.classifier(1, 2, 2, 3).opset(13)
                .inputs(tensor("image", FLOAT, 1L, 1L, 2L, 2L)).outputs(tensor("scores", FLOAT, 1L, 3L)).bytes(), card);
        ServingOptions serving = new ServingOptions(Batching.OFF,
                Map.of("batched", EIGHT_AT_A_TIME, "single", EIGHT_AT_A_TIME), new ServingMetrics(registry));
        sessions = new ModelSessions(store, new OnnxRuntime("cpu", 1), serving);
        predictor = new Predictor(sessions, MAX_INPUTS, MAX_PIXELS);
    }

    @AfterEach
    void stop() {
        callers.shutdownNow();
        sessions.close();
    }

    private static ModelRef ref(String name) {
        return ModelRef.newBuilder().setName(name).build();
    }

    private static ModelInput.Tensor input(float... values) {
        return new ModelInput.Tensor(new long[] {1, 2, 2}, values);
    }

    private static List<ModelInput> randomInputs(Random random, int rows) {
        List<ModelInput> inputs = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            inputs.add(input(random.nextFloat(), random.nextFloat(), random.nextFloat(), random.nextFloat()));
        }
        return inputs;
    }

    /** The logits of {@code inputs} from a run of their own, past any batcher. */
    private float[] alone(String model, List<ModelInput> inputs) {
        LoadedModel loaded = sessions.get(ref(model));
        FloatBuffer buffer = loaded.newInputBuffer(inputs.size());
        inputs.forEach(input -> buffer.put(((ModelInput.Tensor) input).values()));
        return loaded.logits(buffer, inputs.size());
    }

    private double count(String meter, String model, String... tags) {
        return registry.get(meter).tags("model", model, "version", "1").tags(tags).meters().stream()
                .mapToDouble(m -> m.measure().iterator().next().getValue()).sum();
    }

    @Test
    void topKIsTheLargestFirstWithTheLowerIndexFirstAmongEquals() {
        float[] probabilities = {0.1f, 0.3f, 0.05f, 0.3f, 0.25f};
        List<String> labels = List.of("a", "b", "c", "d", "e");
        assertEquals(List.of(new ClassScore(1, "b", 0.3f), new ClassScore(3, "d", 0.3f), new ClassScore(4, "e", 0.25f)),
                Predictor.topK(probabilities, 3, labels));
        assertEquals(List.of(1, 3, 4, 0, 2), Predictor.topK(probabilities, 5, labels).stream().map(ClassScore::index).toList());
    }

    @Test
    void requestsBatchedTogetherEachGetTheirOwnRows() throws Exception {
        Random random = new Random(11);
        int[] rowsPerRequest = {1, 2, 3, 2};
        int rounds = 20;
        for (int round = 0; round < rounds; round++) {
            // 8 rows in 4 requests: the preferred batch, so they run as one batch of 8 however they arrive.
            List<List<ModelInput>> requests = new ArrayList<>();
            List<Future<Predictor.Scores>> answers = new ArrayList<>();
            for (int rows : rowsPerRequest) {
                List<ModelInput> inputs = randomInputs(random, rows);
                requests.add(inputs);
                answers.add(callers.submit(() -> predictor.logits(ref("batched"), inputs)));
            }
            for (int i = 0; i < requests.size(); i++) {
                Predictor.Scores scores = answers.get(i).get(30, TimeUnit.SECONDS);
                assertEquals(rowsPerRequest[i], scores.rows());
                assertArrayEquals(alone("batched", requests.get(i)), scores.logits(), 1e-5f, "round " + round + ", request " + i);
            }
        }
        assertEquals(rounds, registry.get(ModelMetrics.BATCH_SIZE).tags("model", "batched").summary().count());
        assertEquals(8.0 * rounds, registry.get(ModelMetrics.BATCH_SIZE).tags("model", "batched").summary().totalAmount());
    }

    @Test
    void aModelFixedAtBatchOneIsServedOneByOneDespiteItsBatchingSettings() throws Exception {
        List<ModelInput> inputs = randomInputs(new Random(5), 3);
        // With an hour's delay for a batch of 8, these 3 rows would wait: they run at once, on this thread.
        Predictor.Scores scores = predictor.logits(ref("single"), inputs);
        assertArrayEquals(alone("plain", inputs), scores.logits(), 1e-5f);
        assertEquals(0, count(ModelMetrics.QUEUE_TIME, "single"), "no queue");
    }

    @Test
    void nanAndInfiniteValuesAreRefusedByInputAndPosition() {
        DistilleryException nan = assertThrows(DistilleryException.class, () -> predictor.logits(ref("plain"),
                List.of(input(1, 2, 3, 4), input(0, 0, Float.NaN, 0))));
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, nan.kind());
        assertEquals("input 1: tensor value 2 (channel 0, row 1, column 0) is NaN; send finite numbers", nan.getMessage());
        DistilleryException infinite = assertThrows(DistilleryException.class, () -> predictor.logits(ref("plain"),
                List.of(input(0, Float.NEGATIVE_INFINITY, 0, 0))));
        assertEquals("input 0: tensor value 1 (channel 0, row 0, column 1) is -Infinity; send finite numbers",
                infinite.getMessage());
    }

    @Test
    void aHugeTopKIsCappedAtTheClassCount() {
        Predictor.Result result = predictor.predict(ref("plain"), List.of(input(1, 2, 3, 4)), Integer.MAX_VALUE);
        assertEquals(List.of("a", "b", "c"), result.classifications().get(0).stream().map(ClassScore::label).sorted().toList());
    }

    @Test
    void anImageBombIsRefusedFromItsHeader() throws Exception {
        byte[] bomb = BlankPng.of(20_000, 20_000);
        DistilleryException refused = assertThrows(DistilleryException.class,
                () -> predictor.logits(ref("plain"), List.of(input(1, 2, 3, 4), new ModelInput.Image(bomb))));
        assertEquals(DistilleryException.Kind.RESOURCE_EXHAUSTED, refused.kind());
        assertEquals("input 1: image is 20000 x 20000 = 400,000,000 pixels; the server decodes at most 16,777,216: "
                + "send a smaller image", refused.getMessage());
    }

    @Test
    void eachVersionCountsItsRequestsFailuresBatchesAndTimesUntilItCloses() throws Exception {
        Random random = new Random(3);
        for (int rows = 1; rows <= 3; rows++) {
            predictor.logits(ref("plain"), randomInputs(random, rows));
        }
        assertThrows(DistilleryException.class, () -> predictor.logits(ref("plain"), List.of(input(Float.NaN, 0, 0, 0))));
        assertThrows(DistilleryException.class, () -> predictor.logits(ref("plain"), randomInputs(random, MAX_INPUTS + 1)));
        List<Future<Predictor.Scores>> eight = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            eight.add(callers.submit(() -> predictor.logits(ref("batched"), randomInputs(new Random(), 1))));
        }
        for (Future<Predictor.Scores> answer : eight) {
            answer.get(30, TimeUnit.SECONDS);
        }
        assertThrows(DistilleryException.class, () -> predictor.logits(ref("nonexistent"), randomInputs(random, 1)));

        assertEquals(5, count(ModelMetrics.REQUESTS, "plain"));
        assertEquals(1, count(ModelMetrics.FAILURES, "plain", "status", "INVALID_ARGUMENT"));
        assertEquals(1, count(ModelMetrics.FAILURES, "plain", "status", "RESOURCE_EXHAUSTED"));
        assertEquals(0, count(ModelMetrics.FAILURES, "plain", "status", "INTERNAL"));
        assertEquals(3, registry.get(ModelMetrics.BATCH_SIZE).tags("model", "plain").summary().count());
        assertEquals(6, registry.get(ModelMetrics.BATCH_SIZE).tags("model", "plain").summary().totalAmount());
        assertEquals(3, registry.get(ModelMetrics.COMPUTE_TIME).tags("model", "plain").timer().count());
        assertEquals(0, registry.get(ModelMetrics.QUEUE_TIME).tags("model", "plain").timer().count(), "unbatched");
        assertEquals(8, count(ModelMetrics.REQUESTS, "batched"));
        assertEquals(8, registry.get(ModelMetrics.QUEUE_TIME).tags("model", "batched").timer().count());
        assertEquals(1, registry.get(ModelMetrics.BATCH_SIZE).tags("model", "batched").summary().count());

        String scrape = registry.scrape();
        for (String series : List.of("distillery_model_requests_total{", "distillery_model_failures_total{",
                "distillery_model_batch_size_bucket{", "distillery_model_queue_time_seconds_bucket{",
                "distillery_model_compute_time_seconds_bucket{")) {
            assertTrue(scrape.lines().anyMatch(line -> line.startsWith(series) && line.contains("model=\"plain\"")
                    && line.contains("version=\"1\"")), series + " in\n" + scrape);
        }
        assertTrue(scrape.lines().anyMatch(line -> line.startsWith("distillery_model_failures_total{")
                && line.contains("model=\"plain\"") && line.contains("status=\"RESOURCE_EXHAUSTED\"")
                && line.endsWith(" 1.0")), scrape);
        assertFalse(scrape.contains("nonexistent"), "no series for a model that does not exist");

        store.delete(ref("plain"));
        sessions.forget("plain", List.of(1L));
        assertFalse(registry.scrape().contains("model=\"plain\""), "a closed version's series are gone");
        assertTrue(registry.scrape().contains("model=\"batched\""));
    }
}
