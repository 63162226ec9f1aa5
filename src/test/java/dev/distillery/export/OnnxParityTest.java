package dev.distillery.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.distillery.model.ArchitectureCatalogue;
import dev.distillery.model.ArchitectureSpec;
import dev.distillery.model.DjlBlocks;
import dev.distillery.model.Network;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every catalogue architecture, briefly trained in DJL, exported and run on ONNX Runtime, gives the
 * logits of DJL's own eval-mode forward pass, at batch 8 and at batch 1 (the batch is dynamic):
 * gray and rgb, square and not, with trained BatchNorm statistics in every branch.
 */
class OnnxParityTest {

    private static final float TOLERANCE = 1e-4f;
    private static final int TRAINING_STEPS = 5;
    private static final int TRAINING_BATCH = 16;

    static Stream<Arguments> networks() {
        ArchitectureCatalogue catalogue = ArchitectureCatalogue.standard();
        return Stream.of(
                Arguments.of("mlp with dropout", catalogue.build(
                        new ArchitectureSpec("mlp", List.of(64, 32), List.of(), false, 0.3f), 1, 28, 28, 10)),
                Arguments.of("cnn, reference student", catalogue.build(
                        new ArchitectureSpec("cnn", List.of(), List.of(List.of(8), List.of(16)), false, 0f),
                        1, 28, 28, 10)),
                Arguments.of("cnn with batch norm, reference teacher", catalogue.build(
                        new ArchitectureSpec("cnn", List.of(128), List.of(List.of(32, 32), List.of(64, 64)), true, 0.3f),
                        1, 28, 28, 10)),
                Arguments.of("cnn with batch norm, 3x18x14 input", catalogue.build(
                        new ArchitectureSpec("cnn", List.of(32), List.of(List.of(8, 8), List.of(16)), true, 0.3f),
                        3, 18, 14, 5)),
                Arguments.of("resnet8, gray 1x28x28", catalogue.build(resnet(8, 0, 0f), 1, 28, 28, 10)),
                // Odd sides: the stride-2 convolutions and their 1x1 shortcuts both give ceil(side / 2).
                Arguments.of("resnet14 w=0.5 with dropout, rgb 3x19x13", catalogue.build(resnet(14, 0.5f, 0.2f), 3, 19, 13, 7)),
                // Small inputs and widths: MobileNetV2 trains slowly on a CPU (depthwise convolutions).
                Arguments.of("mobilenetv2 w=0.25, gray 1x12x9", catalogue.build(mobilenetv2(0.25f, 0f), 1, 12, 9, 10)),
                Arguments.of("mobilenetv2 w=0.5 with dropout, rgb 3x16x20", catalogue.build(mobilenetv2(0.5f, 0.2f), 3, 16, 20, 10)),
                // Large enough to keep every stride-2 place, the stem's included.
                Arguments.of("mobilenetv2 w=0.25, rgb 3x97x100", catalogue.build(mobilenetv2(0.25f, 0f), 3, 97, 100, 4)));
    }

    private static ArchitectureSpec resnet(int depth, float width, float dropout) {
        return new ArchitectureSpec("resnet", List.of(), List.of(), false, dropout, depth, width);
    }

    private static ArchitectureSpec mobilenetv2(float width, float dropout) {
        return new ArchitectureSpec("mobilenetv2", List.of(), List.of(), false, dropout, 0, width);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("networks")
    void onnxRuntimeMatchesDjl(String description, Network network) throws OrtException {
        Engine.getInstance().setRandomSeed(7);
        Random random = new Random(42);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (Model model = Model.newInstance("parity")) {
            SequentialBlock block = DjlBlocks.toBlock(network);
            model.setBlock(block);
            train(model, network, random);
            byte[] onnx = new OnnxExporter().export(network, block);
            try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
                    OrtSession session = env.createSession(onnx, options)) {
                assertDynamicBatch(session, network);
                for (int batch : new int[] {8, 1}) {
                    long[] shape = {batch, network.channels(), network.height(), network.width()};
                    float[] images = images(random, shape);
                    float[] expected = djlEval(model.getNDManager(), block, images, shape);
                    float[] actual = onnxRuntime(env, session, images, shape);
                    assertEquals(batch * network.classes(), actual.length);
                    float difference = maxAbsDifference(expected, actual);
                    System.out.printf("%s, batch %d: max |DJL - ORT| = %.3g%n", description, batch, difference);
                    assertTrue(difference <= TOLERANCE, description + ": max |DJL - ORT| = " + difference);
                }
            }
        }
    }

    /** A few Adam steps: moves every weight, gamma and beta, and the BatchNorm running statistics. */
    private static void train(Model model, Network network, Random random) {
        DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.01f)).build());
        long[] shape = {TRAINING_BATCH, network.channels(), network.height(), network.width()};
        try (Trainer trainer = model.newTrainer(config)) {
            trainer.initialize(new Shape(shape));
            for (int step = 0; step < TRAINING_STEPS; step++) {
                try (NDManager batch = model.getNDManager().newSubManager();
                        GradientCollector collector = trainer.newGradientCollector()) {
                    NDArray x = batch.create(images(random, shape), new Shape(shape));
                    NDArray labels = batch.create(random.ints(TRAINING_BATCH, 0, network.classes()).toArray());
                    NDArray logits = trainer.forward(new NDList(x)).singletonOrThrow();
                    NDArray loss = trainer.getLoss().evaluate(new NDList(labels), new NDList(logits));
                    float value = loss.getFloat();
                    assertTrue(Float.isFinite(value), "loss " + value + " at step " + step);
                    collector.backward(loss);
                }
                trainer.step();
            }
        }
        assertStatisticsMoved(model.getBlock());
    }

    /**
     * Every BatchNorm's running statistics, residual branches included, must have left their
     * initial values (means 0, variances 1), or the export of them would go untested; and some
     * means must be far from 0. (A BatchNorm after a convolution of a linear projection, as in
     * MobileNetV2's expansion, sees inputs the previous BatchNorm centred: after a few steps its
     * means are small, about 1e-3, but not 0.)
     */
    private static void assertStatisticsMoved(Block block) {
        List<Block> norms = batchNorms(block);
        float largestMean = 0;
        for (Block norm : norms) {
            NDArray mean = norm.getDirectParameters().get("runningMean").getArray();
            NDArray variance = norm.getDirectParameters().get("runningVar").getArray();
            assertTrue(mean.abs().max().getFloat() > 0, "running mean still 0");
            assertTrue(variance.sub(1).abs().max().getFloat() > 0.01f, "running variance still 1");
            largestMean = Math.max(largestMean, mean.abs().max().getFloat());
        }
        assertTrue(norms.isEmpty() || largestMean > 0.01f, "every running mean still near 0");
    }

    private static List<Block> batchNorms(Block block) {
        List<Block> norms = new ArrayList<>();
        if (block.getDirectParameters().get("runningMean") != null) {
            norms.add(block);
        }
        for (Block child : block.getChildren().values()) {
            norms.addAll(batchNorms(child));
        }
        return norms;
    }

    /** Uniform [0, 1) pixels, like scaled images: BatchNorm sees a non-zero mean. */
    private static float[] images(Random random, long[] shape) {
        float[] values = new float[Math.toIntExact(new Shape(shape).size())];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextFloat();
        }
        return values;
    }

    private static float[] djlEval(NDManager parent, Block block, float[] images, long[] shape) {
        try (NDManager manager = parent.newSubManager()) {
            NDArray x = manager.create(images, new Shape(shape));
            return block.forward(new ParameterStore(manager, false), new NDList(x), false)
                    .singletonOrThrow()
                    .toFloatArray();
        }
    }

    private static float[] onnxRuntime(OrtEnvironment env, OrtSession session, float[] images, long[] shape)
            throws OrtException {
        try (OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(images), shape);
                OrtSession.Result result = session.run(Map.of("input", input))) {
            FloatBuffer logits = ((OnnxTensor) result.get("logits").orElseThrow()).getFloatBuffer();
            float[] values = new float[logits.remaining()];
            logits.get(values);
            return values;
        }
    }

    private static void assertDynamicBatch(OrtSession session, Network network) throws OrtException {
        TensorInfo input = (TensorInfo) session.getInputInfo().get("input").getInfo();
        TensorInfo output = (TensorInfo) session.getOutputInfo().get("logits").getInfo();
        assertArrayEquals(new long[] {-1, network.channels(), network.height(), network.width()}, input.getShape());
        assertArrayEquals(new long[] {-1, network.classes()}, output.getShape());
        assertEquals("batch", input.getDimensionNames()[0]);
        assertEquals("batch", output.getDimensionNames()[0]);
    }

    private static float maxAbsDifference(float[] expected, float[] actual) {
        float max = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs(expected[i] - actual[i]));
        }
        return max;
    }
}
