package dev.distillery.distill;

import static dev.distillery.export.OnnxGraphBuilder.intAttribute;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.ModelProto;
import ai.onnx.proto.OperatorSetIdProto;
import dev.distillery.data.Augmenter;
import dev.distillery.data.ImageFiles;
import dev.distillery.data.ImagePipeline;
import dev.distillery.data.ImageSet;
import dev.distillery.data.ImageShape;
import dev.distillery.data.Pixels;
import dev.distillery.export.OnnxGraphBuilder;
import dev.distillery.serve.ModelInputs;
import dev.distillery.serve.ModelSessions;
import dev.distillery.serve.OnnxRuntime;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.Augmentation;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.Preprocessing;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StreamingStudentDataTest {

    private static final int SIDE = 4;
    private static final int CLASSES = SIDE * SIDE;
    /** p / 255 exactly: the student's floats show its 8-bit pixels. */
    private static final ImagePipeline STUDENT = ImagePipeline.of(Preprocessing.newBuilder().setColor("gray")
            .addMean(0f).addStd(1f).build(), 1, SIDE, SIDE);
    private static final Augmenter FLIP_AND_SHIFT = Augmenter.of(
            Augmentation.newBuilder().setHorizontalFlip(true).setRandomCropPadding(1).build());
    private static final Augmenter NONE = Augmenter.of(Augmentation.getDefaultInstance());

    @TempDir
    Path dir;

    /** {@code count} random 1 x 4 x 4 images; image i has label i % 16 and first pixel i. */
    private static ImageSet images(int count, long seed) {
        byte[] pixels = new byte[count * CLASSES];
        new Random(seed).nextBytes(pixels);
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            pixels[i * CLASSES] = (byte) i;
            labels[i] = i % CLASSES;
        }
        return new ImageSet(count, 1, SIDE, SIDE, pixels, labels);
    }

    private static List<Batch> all(Iterator<Batch> batches) {
        List<Batch> out = new ArrayList<>();
        batches.forEachRemaining(out::add);
        return out;
    }

    private static void assertSameBatches(List<Batch> expected, List<Batch> actual) {
        assertEquals(expected.size(), actual.size());
        for (int b = 0; b < expected.size(); b++) {
            assertArrayEquals(expected.get(b).inputs(), actual.get(b).inputs(), "batch " + b);
            assertArrayEquals(expected.get(b).labels(), actual.get(b).labels(), "batch " + b);
        }
    }

    @Test
    void anImageFolderIsDecodedBatchByBatchNeverAllAtOnce() {
        int count = 200;
        AtomicInteger decoded = new AtomicInteger();
        ImageSet source = images(count, 1);
        List<Path> files = IntStream.range(0, count).mapToObj(i -> Path.of("image-" + i + ".png")).toList();
        ImageFiles folder = new ImageFiles(files, source.labels(), file -> {
            decoded.incrementAndGet();
            return source.image(Integer.parseInt(file.toString().replaceAll("\\D", "")));
        }, file -> new ImageShape(1, SIDE, SIDE));

        try (StudentData data = new StreamingStudentData(folder, images(0, 2), STUDENT, NONE,
                new TeacherLogits.None(), CLASSES, 7)) {
            Iterator<Batch> epoch = data.trainingEpoch(1, 10);
            assertEquals(10, epoch.next().size());
        }
        // close() stopped the loader: the batch taken plus at most the prefetched ones were decoded.
        int bound = 10 * (1 + StreamingStudentData.AHEAD);
        assertTrue(decoded.get() >= 10 && decoded.get() <= bound, decoded.get() + " of " + count + " decoded");

        decoded.set(0);
        try (StudentData data = new StreamingStudentData(folder, images(0, 2), STUDENT, NONE,
                new TeacherLogits.None(), CLASSES, 7)) {
            assertEquals(20, all(data.trainingEpoch(1, 10)).size());
        }
        assertEquals(count, decoded.get(), "an epoch decodes each image once");
    }

    @Test
    void anEpochDependsOnTheSeedAndItsNumberAlone() {
        ImageSet train = images(50, 3);
        StudentData uninterrupted = new StreamingStudentData(train, images(5, 4), STUDENT, FLIP_AND_SHIFT,
                new TeacherLogits.None(), CLASSES, 11);
        StudentData resumed = new StreamingStudentData(train, images(5, 4), STUDENT, FLIP_AND_SHIFT,
                new TeacherLogits.None(), CLASSES, 11);
        StudentData otherSeed = new StreamingStudentData(train, images(5, 4), STUDENT, FLIP_AND_SHIFT,
                new TeacherLogits.None(), CLASSES, 12);

        List<Batch> first = all(uninterrupted.trainingEpoch(1, 8));
        List<Batch> second = all(uninterrupted.trainingEpoch(2, 8));
        assertSameBatches(second, all(resumed.trainingEpoch(2, 8)));
        assertSameBatches(first, all(resumed.trainingEpoch(1, 8)));
        assertFalse(Arrays.equals(first.get(0).inputs(), second.get(0).inputs()), "epochs differ");
        assertFalse(Arrays.equals(second.get(0).inputs(), all(otherSeed.trainingEpoch(2, 8)).get(0).inputs()),
                "seeds differ");
    }

    @Test
    void validationImagesAreNeverAugmented() {
        ImageSet validation = images(9, 5);
        try (StudentData data = new StreamingStudentData(images(20, 6), validation, STUDENT, FLIP_AND_SHIFT,
                new TeacherLogits.None(), CLASSES, 1)) {
            List<Batch> batches = all(data.validation(4));
            assertEquals(List.of(4, 4, 1), batches.stream().map(Batch::size).toList());
            for (int i = 0; i < 9; i++) {
                Batch batch = batches.get(i / 4);
                float[] expected = new float[CLASSES];
                STUDENT.normalize(validation.image(i), expected, 0);
                assertArrayEquals(expected, Arrays.copyOfRange(batch.inputs(), (i % 4) * CLASSES, (i % 4 + 1) * CLASSES));
                assertEquals(validation.label(i), batch.labels()[i % 4]);
                assertNull(batch.teacherLogits());
            }
        }
    }

    @Test
    void logitsComputedOnceFollowTheirImages() {
        ImageSet train = images(30, 8);
        float[] logits = new float[30 * CLASSES];
        for (int i = 0; i < 30; i++) {
            Arrays.fill(logits, i * CLASSES, (i + 1) * CLASSES, i);
        }
        try (StudentData data = new StreamingStudentData(train, images(0, 9), STUDENT, NONE,
                new TeacherLogits.Computed(logits, CLASSES), CLASSES, 3)) {
            assertTrue(data.taught());
            for (Batch batch : all(data.trainingEpoch(4, 7))) {
                for (int i = 0; i < batch.size(); i++) {
                    // The first pixel of image k is k; its logits row is all k.
                    float image = batch.inputs()[i * CLASSES] * 255;
                    assertEquals(image, batch.teacherLogits()[i * CLASSES], 1e-3);
                }
            }
        }
    }

    @Test
    void withoutATeacherUnlabelledImagesAreLeftOut() {
        ImageSet train = images(12, 10).select(IntStream.range(0, 12).toArray(),
                new int[] {0, -1, 2, -1, 4, -1, 6, -1, 8, -1, 10, -1});
        try (StudentData data = new StreamingStudentData(train, images(0, 9), STUDENT, NONE, new TeacherLogits.None(),
                CLASSES, 3)) {
            assertEquals(6, data.trainingCount());
            assertFalse(data.taught());
            all(data.trainingEpoch(1, 4)).forEach(batch -> Arrays.stream(batch.labels()).forEach(l -> assertTrue(l >= 0)));
        }
    }

    /**
     * Consistent teaching on ONNX Runtime: a teacher whose logits are its 16 input values (Flatten, then
     * an identity Gemm), with its own normalisation (mean 0.5, std 0.25) in its model.json. Each batch's
     * logits must be the teacher's preprocessing of exactly the augmented pixels the student got.
     */
    @Test
    void theTeacherSeesExactlyTheAugmentedImagesTheStudentGets() throws Exception {
        ModelStore store = new ModelStore(dir);
        ModelInfo card = ModelInfo.newBuilder()
                .addAllLabels(IntStream.range(0, CLASSES).mapToObj(Integer::toString).toList())
                .addInputShape(1).addInputShape(SIDE).addInputShape(SIDE)
                .setPreprocessing(Preprocessing.newBuilder().setColor("gray").addMean(0.5f).addStd(0.25f))
                .build();
        store.add("identity", identityOnnx(), card);
        ImageSet train = images(40, 12);
        try (ModelSessions sessions = new ModelSessions(store, new OnnxRuntime("cpu", 1));
                StudentData data = new StreamingStudentData(train, images(0, 9), STUDENT, FLIP_AND_SHIFT,
                        new TeacherLogits.EveryBatch(ModelInputs.of(sessions.get(
                                ModelRef.newBuilder().setName("identity").build()))::logits),
                        CLASSES, 5)) {
            Set<String> originals = new HashSet<>();
            for (int i = 0; i < train.count(); i++) {
                float[] floats = new float[CLASSES];
                STUDENT.normalize(train.image(i), floats, 0);
                originals.add(Arrays.toString(floats));
            }
            int changed = 0;
            for (int epoch = 1; epoch <= 2; epoch++) {
                for (Batch batch : all(data.trainingEpoch(epoch, 16))) {
                    for (int k = 0; k < batch.size() * CLASSES; k++) {
                        float pixel = batch.inputs()[k];
                        assertEquals((pixel - 0.5f) / 0.25f, batch.teacherLogits()[k], 1e-5, "value " + k);
                    }
                    for (int i = 0; i < batch.size(); i++) {
                        changed += originals.contains(Arrays.toString(
                                Arrays.copyOfRange(batch.inputs(), i * CLASSES, (i + 1) * CLASSES))) ? 0 : 1;
                    }
                }
            }
            assertTrue(changed > 40, changed + " of 80 images augmented: the check above must see augmented images");
        }
    }

    /** Flatten [batch, 1, 4, 4] to [batch, 16], then Gemm with the identity: logits = inputs. */
    private static byte[] identityOnnx() {
        OnnxGraphBuilder graph = new OnnxGraphBuilder("identity").input("input", "batch", 1, SIDE, SIDE);
        String flat = graph.node("Flatten", "flatten", List.of("input"), intAttribute("axis", 1));
        float[] eye = new float[CLASSES * CLASSES];
        for (int i = 0; i < CLASSES; i++) {
            eye[i * CLASSES + i] = 1;
        }
        String logits = graph.node("Gemm", "gemm", List.of(flat,
                graph.initializer("weight", new long[] {CLASSES, CLASSES}, eye),
                graph.initializer("bias", new long[] {CLASSES}, new float[CLASSES])), intAttribute("transB", 1));
        graph.output(logits, "logits", "batch", CLASSES);
        return ModelProto.newBuilder().setIrVersion(8)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .setGraph(graph.build()).build().toByteArray();
    }
}
