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
        assertEquals(Set.of("cnn", "mlp"), catalogue.names());
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

    @Test
    void parameterCountsMatchTheDjlBlocks() {
        for (ArchitectureSpec spec : List.of(TEACHER, STUDENT, MLP)) {
            Network network = fashionMnist(spec);
            assertEquals(network.parameterCount(), djlTrainableParameters(network), spec.toString());
        }
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
        "unknown name       | resnet | 32         | [8]          | false | 0    | unknown architecture \"resnet\"; choose one of [cnn, mlp]",
        "empty name         |        | 32         | [8]          | false | 0    | architecture name is empty; choose one of [cnn, mlp]",
        "zero hidden width  | cnn    | 32,0       | [8]          | false | 0    | hidden[1] is 0",
        "negative channels  | cnn    | 32         | [8],[-4]     | false | 0    | stages[1] has -4 output channels",
        "empty stage        | cnn    | 32         | [8],[]       | false | 0    | stages[1] has no convolutions",
        "no stages for cnn  | cnn    | 32         |              | false | 0    | cnn needs at least one stage",
        "dropout of 1       | cnn    | 32         | [8]          | false | 1    | dropout is 1.0; it is a probability in [0, 1)",
        "negative dropout   | mlp    | 32         |              | false | -0.1 | dropout is -0.1",
        "stages for mlp     | mlp    | 32         | [8]          | false | 0    | mlp has no convolutions, so stages and batch_norm must be unset",
        "batch_norm for mlp | mlp    | 32         |              | true  | 0    | mlp has no convolutions, so stages and batch_norm must be unset",
        "too many pools     | cnn    |            | [4],[4],[4],[4],[4] | false | 0 | input's height 28 allows at most 4",
    })
    void rejectsSpecsWithAnActionableMessage(
            String description, String name, String hidden, String stages, boolean batchNorm, float dropout,
            String message) {
        ArchitectureSpec spec = new ArchitectureSpec(
                name == null ? "" : name, ints(hidden), stages(stages), batchNorm, dropout);
        assertInvalid(message, () -> fashionMnist(spec));
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
            block.initialize(manager, DataType.FLOAT32, new Shape(1, 1, 28, 28));
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
