package dev.distillery.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import dev.distillery.error.DistilleryException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ArchitectureCatalogueTest {

    static final ArchitectureSpec TEACHER =
            new ArchitectureSpec("cnn", List.of(128), List.of(List.of(32, 32), List.of(64, 64)), true, 0.3f);
    static final ArchitectureSpec STUDENT =
            new ArchitectureSpec("cnn", List.of(), List.of(List.of(8), List.of(16)), false, 0f);
    static final ArchitectureSpec MLP = new ArchitectureSpec("mlp", List.of(256, 64), List.of(), false, 0.2f);

    private final ArchitectureCatalogue catalogue = ArchitectureCatalogue.standard();

    @Test
    void namesTheStandardArchitectures() {
        assertEquals(Set.of("cnn", "mlp", "mobilenetv2", "resnet"), catalogue.names());
    }

    @Test
    void referencePairHasTheExpectedSizes() {
        // 320 + 9,248 + 18,496 + 36,928 (convs) + 2 * (32 + 32 + 64 + 64) (BN) + 401,536 + 1,290 (dense)
        assertEquals(468_202, fashionMnist(TEACHER).parameterCount());
        // 80 + 1,168 (convs) + 7,850 (dense from 16 * 7 * 7)
        assertEquals(9_098, fashionMnist(STUDENT).parameterCount());
        // 200,960 + 16,448 + 650
        assertEquals(218_058, fashionMnist(MLP).parameterCount());
    }

    /**
     * Expected counts from PyTorch: torchvision's mobilenet_v2(num_classes=10) (with its last 1x1
     * conv and classifier resized to make_divisible(1280 w), the stem to the input's channels) and
     * a CIFAR ResNet written out in PyTorch (bias-free convs, 1x1 conv + BN projection shortcuts).
     */
    @ParameterizedTest(name = "{0} w={1} on {2}x{3}x{3}")
    @CsvSource({
        "resnet8,  1,   1, 28,    77754",
        "resnet8,  1,   3, 32,    78042",
        "resnet14, 1,   1, 28,   174970",
        "resnet14, 1,   3, 32,   175258",
        "resnet20, 1,   1, 28,   272186",
        "resnet20, 1,   3, 32,   272474",
        "resnet32, 1,   1, 28,   466618",
        "resnet32, 1,   3, 32,   466906",
        "resnet8,  0.5, 3, 32,    19954",
        "resnet20, 0.5, 3, 32,    68786",
        "resnet32, 0.5, 3, 32,   117618",
        "mobilenetv2, 1,   1, 28, 2236106",
        "mobilenetv2, 1,   3, 32, 2236682",
        "mobilenetv2, 0.5, 1, 28,  590122",
        "mobilenetv2, 0.5, 3, 32,  590410",
    })
    void studentParameterCountsMatchPyTorch(String name, float width, int channels, int side, long expected) {
        Network network = catalogue.build(student(name, width), channels, side, side, 10);
        assertEquals(expected, network.parameterCount());
    }

    @Test
    void parameterCountsMatchTheDjlBlocks() {
        for (ArchitectureSpec spec : List.of(TEACHER, STUDENT, MLP)) {
            Network network = fashionMnist(spec);
            assertEquals(network.parameterCount(), djlTrainableParameters(network), spec.toString());
        }
        for (Network network : List.of(
                catalogue.build(student("resnet20", 0.5f), 3, 32, 24, 10),
                catalogue.build(student("mobilenetv2", 0.5f), 1, 28, 28, 10))) {
            assertEquals(network.parameterCount(), djlTrainableParameters(network), network.spec().toString());
        }
    }

    @Test
    void resnetIsStemThenNBasicBlocksPerStageThenThePooledHead() {
        List<Layer> layers = catalogue.build(student("resnet14", 1), 3, 32, 32, 10).layers();
        assertEquals(new Layer.Conv2d(3, 16, 3, 1, 1, 1, false), layers.get(0));
        assertEquals(new Layer.BatchNorm2d(16), layers.get(1));
        assertEquals(new Layer.Relu(), layers.get(2));
        List<Layer.Residual> blocks = layers.stream()
                .filter(Layer.Residual.class::isInstance).map(Layer.Residual.class::cast).toList();
        assertEquals(6, blocks.size());
        // Every block is followed by its ReLU.
        for (int i = 3; i < 3 + 2 * 6; i += 2) {
            assertTrue(layers.get(i) instanceof Layer.Residual, "layer " + i);
            assertEquals(new Layer.Relu(), layers.get(i + 1));
        }
        assertEquals(List.of(), blocks.get(1).shortcut());
        Layer.Residual down = blocks.get(2);
        assertEquals(List.of(new Layer.Conv2d(16, 32, 3, 2, 1, 1, false), new Layer.BatchNorm2d(32), new Layer.Relu(),
                new Layer.Conv2d(32, 32, 3, 1, 1, 1, false), new Layer.BatchNorm2d(32)), down.body());
        assertEquals(List.of(new Layer.Conv2d(16, 32, 1, 2, 0, 1, false), new Layer.BatchNorm2d(32)), down.shortcut());
        assertEquals(new Layer.Conv2d(32, 64, 1, 2, 0, 1, false), blocks.get(4).shortcut().get(0));
        assertEquals(List.of(new Layer.GlobalAvgPool(), new Layer.Dense(64, 10)), layers.subList(15, 17));
    }

    @Test
    void resnetWidthRoundsEveryChannelCountToAtLeastOne() {
        List<Layer> layers = catalogue.build(student("resnet8", 0.03f), 1, 8, 8, 2).layers();
        // 16 * 0.03 = 0.48 and 32 * 0.03 = 0.96 (both at least 1), 64 * 0.03 = 1.92 rounds to 2.
        assertEquals(new Layer.Conv2d(1, 1, 3, 1, 1, 1, false), layers.get(0));
        assertEquals(new Layer.Dense(2, 2), layers.get(layers.size() - 1));
    }

    @Test
    void mobilenetv2BlocksExpandFilterDepthwiseAndProject() {
        List<Layer> layers = catalogue.build(student("mobilenetv2", 1), 3, 224, 224, 10).layers();
        assertEquals(new Layer.Conv2d(3, 32, 3, 2, 1, 1, false), layers.get(0));
        assertEquals(new Layer.Relu6(), layers.get(2));
        // t = 1: no expansion, 32 -> 16 channels, so no residual add.
        assertEquals(List.of(new Layer.Conv2d(32, 32, 3, 1, 1, 32, false), new Layer.BatchNorm2d(32), new Layer.Relu6(),
                new Layer.Conv2d(32, 16, 1, 1, 0, 1, false), new Layer.BatchNorm2d(16)), layers.subList(3, 8));
        // The second 24-channel block keeps its shape: expand to 144, depthwise, project, add.
        Layer.Residual second = (Layer.Residual) layers.stream()
                .filter(Layer.Residual.class::isInstance).findFirst().orElseThrow();
        assertEquals(List.of(
                new Layer.Conv2d(24, 144, 1, 1, 0, 1, false), new Layer.BatchNorm2d(144), new Layer.Relu6(),
                new Layer.Conv2d(144, 144, 3, 1, 1, 144, false), new Layer.BatchNorm2d(144), new Layer.Relu6(),
                new Layer.Conv2d(144, 24, 1, 1, 0, 1, false), new Layer.BatchNorm2d(24)), second.body());
        assertEquals(List.of(), second.shortcut());
        // 17 blocks; those that keep their shape: 1 + 2 + 3 + 2 + 2 of the rows (24, 32, 64, 96, 160).
        assertEquals(10, layers.stream().filter(Layer.Residual.class::isInstance).count());
        int n = layers.size();
        assertEquals(List.of(new Layer.Conv2d(320, 1280, 1, 1, 0, 1, false), new Layer.BatchNorm2d(1280),
                new Layer.Relu6(), new Layer.GlobalAvgPool(), new Layer.Dense(1280, 10)), layers.subList(n - 5, n));
    }

    @ParameterizedTest(name = "{0}x{1}")
    @CsvSource({
        "224, 224, 5, 2",  // the ImageNet network: 7x7 at the end
        "97,  300, 5, 2",  // the smallest side that keeps all five halvings (4x4)
        "96,  96,  4, 1",
        "64,  64,  4, 1",
        "32,  32,  3, 1",  // the usual CIFAR MobileNetV2: stem and first 24-channel block at stride 1
        "28,  28,  3, 1",
        "18,  14,  2, 1",
        "8,   8,   1, 1",
        "4,   5,   0, 1",
    })
    void mobilenetv2DropsEarlyStridesUntilTheLastMapIsAtLeast4x4(int height, int width, int halvings, int stemStride) {
        List<Layer> layers = catalogue.build(student("mobilenetv2", 0.25f), 1, height, width, 10).layers();
        List<Integer> strides = convolutions(layers).stream().map(Layer.Conv2d::stride).toList();
        assertEquals(halvings, strides.stream().filter(stride -> stride == 2).count());
        assertEquals(stemStride, strides.get(0));
    }

    @Test
    void mobilenetv2WidthRoundsToMultiplesOf8() {
        assertEquals(8, MobileNetV2Factory.divisible(16 * 0.25));
        assertEquals(16, MobileNetV2Factory.divisible(32 * 0.5));
        assertEquals(16, MobileNetV2Factory.divisible(24 * 0.5));  // 12 rounds half up
        assertEquals(24, MobileNetV2Factory.divisible(160 * 0.13)); // 20.8 -> 24
        assertEquals(40, MobileNetV2Factory.divisible(43));  // the nearest multiple
        assertEquals(16, MobileNetV2Factory.divisible(9.6));  // 8 would lose more than 10 %
        List<Layer> layers = catalogue.build(student("mobilenetv2", 0.35f), 1, 28, 28, 10).layers();
        assertEquals(new Layer.Conv2d(1, 16, 3, 1, 1, 1, false), layers.get(0));  // 32 * 0.35 = 11.2
        assertEquals(new Layer.Dense(448, 10), layers.get(layers.size() - 1));  // 1280 * 0.35
    }

    @Test
    void dropoutGoesBeforeTheClassifierOfThePooledHead() {
        ArchitectureSpec spec = new ArchitectureSpec("resnet", List.of(), List.of(), false, 0.2f, 8, 0);
        List<Layer> layers = catalogue.build(spec, 1, 8, 8, 3).layers();
        assertEquals(List.of(new Layer.GlobalAvgPool(), new Layer.Dropout(0.2f), new Layer.Dense(64, 3)),
                layers.subList(layers.size() - 3, layers.size()));
    }

    @Test
    void teacherLayersFollowTheSpec() {
        List<Layer> layers = fashionMnist(TEACHER).layers();
        assertEquals(new Layer.Conv2d(1, 32, 3, 1), layers.get(0));
        assertEquals(new Layer.BatchNorm2d(32, 1e-5f, 0.9f), layers.get(1));
        assertEquals(new Layer.Relu(), layers.get(2));
        assertEquals(new Layer.MaxPool2d(2), layers.get(6));
        assertEquals(new Layer.Dense(64 * 7 * 7, 128), layers.get(layers.size() - 4));
        assertEquals(new Layer.Dropout(0.3f), layers.get(layers.size() - 2));
        assertEquals(new Layer.Dense(128, 10), layers.get(layers.size() - 1));
    }

    @Test
    void poolingRoundsDown() {
        ArchitectureSpec spec = new ArchitectureSpec("cnn", List.of(), List.of(List.of(4), List.of(4)), false, 0f);
        // 3x18x14 -> 9x7 -> 4x3
        assertEquals(new Layer.Dense(4 * 4 * 3, 5), catalogue.build(spec, 3, 18, 14, 5).layers().get(7));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "unknown name       | vgg    | 32         | [8]          | false | 0    | unknown architecture \"vgg\"; choose one of [cnn, mlp, mobilenetv2, resnet]",
        "empty name         |        | 32         | [8]          | false | 0    | architecture name is empty; choose one of [cnn, mlp, mobilenetv2, resnet]",
        "zero hidden width  | cnn    | 32,0       | [8]          | false | 0    | hidden[1] is 0",
        "negative channels  | cnn    | 32         | [8],[-4]     | false | 0    | stages[1] has -4 output channels",
        "empty stage        | cnn    | 32         | [8],[]       | false | 0    | stages[1] has no convolutions",
        "no stages for cnn  | cnn    | 32         |              | false | 0    | cnn needs at least one stage",
        "dropout of 1       | cnn    | 32         | [8]          | false | 1    | dropout is 1.0; it is a probability in [0, 1)",
        "negative dropout   | mlp    | 32         |              | false | -0.1 | dropout is -0.1",
        "stages for mlp     | mlp    | 32         | [8]          | false | 0    | mlp does not use stages; leave it unset (mlp takes hidden, dropout)",
        "batch_norm for mlp | mlp    | 32         | [8]          | true  | 0    | mlp does not use stages, batch_norm; leave them unset",
        "too many pools     | cnn    |            | [4],[4],[4],[4],[4] | false | 0 | input's height 28 allows at most 4",
    })
    void rejectsSpecsWithAnActionableMessage(
            String description, String name, String hidden, String stages, boolean batchNorm, float dropout,
            String message) {
        ArchitectureSpec spec = new ArchitectureSpec(
                name == null ? "" : name, ints(hidden), stages(stages), batchNorm, dropout);
        assertInvalid(message, () -> fashionMnist(spec));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "unknown depth          | resnet      | 10 | 0    |        |     | 0   | resnet: depth is 10; choose one of [8, 14, 20, 32] (6n + 2 layers",
        "no depth               | resnet      | 0  | 0    |        |     | 0   | resnet: depth is unset; choose one of [8, 14, 20, 32]",
        "negative width         | resnet      | 20 | -1   |        |     | 0   | resnet: width_multiplier is -1.0; it must be in (0, 4.0]",
        "absurd width           | mobilenetv2 | 0  | 100  |        |     | 0   | mobilenetv2: width_multiplier is 100.0; it must be in (0, 4.0]",
        "NaN width              | mobilenetv2 | 0  | NaN  |        |     | 0   | width_multiplier is NaN",
        "stages for resnet      | resnet      | 20 | 0    | [16]   |     | 0   | resnet does not use stages; leave it unset (resnet takes depth, width_multiplier, dropout)",
        "hidden for mobilenetv2 | mobilenetv2 | 0  | 0    |        | 64  | 0   | mobilenetv2 does not use hidden; leave it unset (mobilenetv2 takes width_multiplier, dropout)",
        "depth for mobilenetv2  | mobilenetv2 | 20 | 0.5  |        |     | 0   | mobilenetv2 does not use depth; leave it unset",
        "depth for cnn          | cnn         | 20 | 2    | [8]    |     | 0   | cnn does not use depth, width_multiplier; leave them unset (cnn takes stages, batch_norm, hidden, dropout)",
        "dropout of 1           | resnet      | 8  | 0    |        |     | 1   | resnet: dropout is 1.0; it is a probability in [0, 1)",
    })
    void rejectsStudentSpecsWithAnActionableMessage(
            String description, String name, int depth, float width, String stages, String hidden, float dropout,
            String message) {
        ArchitectureSpec spec = new ArchitectureSpec(name, ints(hidden), stages(stages), false, dropout, depth, width);
        assertInvalid(message, () -> catalogue.build(spec, 3, 32, 32, 10));
    }

    @Test
    void studentsNeedInputsAtLeastAsLargeAsTheirStride() {
        assertInvalid("resnet halves the image twice (total stride 4), so each side needs at least 4 pixels;"
                + " the input is 28x3", () -> catalogue.build(student("resnet8", 1), 1, 28, 3, 10));
        assertInvalid("mobilenetv2 needs at least 4 pixels a side; the input is 3x3",
                () -> catalogue.build(student("mobilenetv2", 1), 3, 3, 3, 10));
        assertEquals(new Layer.Dense(64, 10), last(catalogue.build(student("resnet8", 1), 1, 4, 4, 10)));
    }

    @Test
    void rejectsNonPositiveInputSizes() {
        assertInvalid("input height must be positive, got 0", () -> catalogue.build(STUDENT, 1, 0, 28, 10));
        assertInvalid("number of classes must be positive, got -1", () -> catalogue.build(MLP, 1, 28, 28, -1));
    }

    @Test
    void namesTheNarrowSideWhenThereAreTooManyPools() {
        assertInvalid("the 28x3 input's width 3 allows at most 1", () -> catalogue.build(STUDENT, 1, 28, 3, 10));
    }

    /** "resnet20" (name and depth) or "mobilenetv2" at width multiplier {@code width}. */
    static ArchitectureSpec student(String name, float width) {
        if (name.startsWith("resnet")) {
            int depth = Integer.parseInt(name.substring("resnet".length()));
            return new ArchitectureSpec("resnet", List.of(), List.of(), false, 0f, depth, width);
        }
        return new ArchitectureSpec(name, List.of(), List.of(), false, 0f, 0, width);
    }

    /** Every convolution, in order, inside residual units too. */
    private static List<Layer.Conv2d> convolutions(List<Layer> layers) {
        List<Layer.Conv2d> convolutions = new ArrayList<>();
        for (Layer layer : layers) {
            if (layer instanceof Layer.Conv2d conv) {
                convolutions.add(conv);
            } else if (layer instanceof Layer.Residual residual) {
                convolutions.addAll(convolutions(residual.body()));
                convolutions.addAll(convolutions(residual.shortcut()));
            }
        }
        return convolutions;
    }

    private static Layer last(Network network) {
        return network.layers().get(network.layers().size() - 1);
    }

    private Network fashionMnist(ArchitectureSpec spec) {
        return catalogue.build(spec, 1, 28, 28, 10);
    }

    private static void assertInvalid(String expected, Runnable build) {
        DistilleryException e = assertThrows(DistilleryException.class, build::run);
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, e.kind());
        assertTrue(e.getMessage().contains(expected), () -> "message: " + e.getMessage());
    }

    /** Trainable parameters DJL allocates for the network's block (running statistics excluded). */
    private static long djlTrainableParameters(Network network) {
        try (NDManager manager = NDManager.newBaseManager()) {
            SequentialBlock block = DjlBlocks.toBlock(network);
            block.initialize(manager, DataType.FLOAT32, new Shape(1, network.channels(), network.height(), network.width()));
            return block.getParameters().values().stream()
                    .filter(Parameter::requiresGradient)
                    .mapToLong(p -> p.getArray().size())
                    .sum();
        }
    }

    private static List<Integer> ints(String csv) {
        if (csv == null || csv.isEmpty()) {
            return List.of();
        }
        return Arrays.stream(csv.split(",")).map(String::trim).map(Integer::valueOf).toList();
    }

    /** "[8],[16,16]" to [[8], [16, 16]]. */
    private static List<List<Integer>> stages(String text) {
        if (text == null) {
            return List.of();
        }
        return Arrays.stream(text.split("\\],\\["))
                .map(stage -> ints(stage.replace("[", "").replace("]", "")))
                .toList();
    }
}
