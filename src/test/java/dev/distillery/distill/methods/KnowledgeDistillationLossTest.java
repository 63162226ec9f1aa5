package dev.distillery.distill.methods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.loss.Loss;
import com.google.protobuf.FloatValue;
import com.google.protobuf.Int32Value;
import dev.distillery.error.DistilleryException;
import dev.distillery.v1.Distillation;
import java.util.Objects;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class KnowledgeDistillationLossTest {

    private static final int BATCH = 7;
    private static final int CLASSES = 5;

    private static NDManager manager;

    @BeforeAll
    static void openManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void closeManager() {
        manager.close();
    }

    @ParameterizedTest(name = "T={0} alpha={1} unlabelled={2}")
    @CsvSource({
        "1, 0, 0", "1, 0.7, 0", "1, 1, 0",
        "3, 0, 0", "3, 0.7, 0", "3, 1, 0",
        "2.5, 0, 3", "2.5, 0.7, 3", "2.5, 1, 3",
        "4, 0, 7", "4, 0.7, 7", "4, 1, 7"
    })
    void matchesTheFormulaInDoublePrecision(float temperature, float alpha, int unlabelled) {
        Random random = new Random(Objects.hash(temperature, alpha, unlabelled));
        for (int trial = 0; trial < 3; trial++) {
            float[] student = randomLogits(random);
            float[] teacher = randomLogits(random);
            int[] labels = randomLabels(random, unlabelled);
            KnowledgeDistillationLoss loss =
                    KnowledgeDistillationLoss.builder().optTemperature(temperature).optAlpha(alpha).build();

            float actual = loss.evaluate(
                            new NDList(manager.create(labels), logits(teacher)), new NDList(logits(student)))
                    .getFloat();

            double expected = reference(student, teacher, labels, temperature, alpha);
            assertEquals(expected, actual, 1e-5 * Math.max(Math.abs(expected), 1e-3));
        }
    }

    @Test
    void acceptsFloatLabelsAndNoTeacherWhenAlphaIsZero() {
        Random random = new Random(11);
        float[] student = randomLogits(random);
        int[] labels = randomLabels(random, 2);
        float[] floatLabels = new float[BATCH];
        for (int i = 0; i < BATCH; i++) {
            floatLabels[i] = labels[i];
        }
        Loss loss = KnowledgeDistillationLoss.builder().optAlpha(0).build();
        NDList labelList = new NDList(manager.create(floatLabels));

        float actual = loss.evaluate(labelList, new NDList(logits(student))).getFloat();

        assertEquals(reference(student, null, labels, 3, 0), actual, 1e-5);
    }

    @Test
    void alphaZeroEqualsDjlSoftmaxCrossEntropy() {
        Random random = new Random(5);
        float[] student = randomLogits(random);
        int[] labels = randomLabels(random, 0);
        NDList labelList = new NDList(manager.create(labels));
        NDList predictions = new NDList(logits(student));
        Loss kd = KnowledgeDistillationLoss.builder().optAlpha(0).build();

        float ours = kd.evaluate(labelList, predictions).getFloat();
        float djl = Loss.softmaxCrossEntropyLoss().evaluate(labelList, predictions).getFloat();

        assertEquals(djl, ours, 1e-6);
    }

    @Test
    void kdRejectsTemperatureOutOfRange() {
        DistilleryException e = assertThrows(DistilleryException.class,
                () -> KnowledgeDistillationLoss.METHOD.resolve(kd().setTemperature(FloatValue.of(-1)).build(), true));
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, e.kind());
        assertEquals("distillation.temperature must be > 0, got -1.0", e.getMessage());
        for (float bad : new float[] {0, Float.NaN, Float.POSITIVE_INFINITY}) {
            assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, assertThrows(DistilleryException.class,
                    () -> KnowledgeDistillationLoss.METHOD.resolve(
                            kd().setTemperature(FloatValue.of(bad)).build(), true)).kind());
        }
    }

    @Test
    void kdRejectsAlphaOutOfRange() {
        for (float bad : new float[] {-0.1f, 1.5f, Float.NaN}) {
            DistilleryException e = assertThrows(DistilleryException.class,
                    () -> KnowledgeDistillationLoss.METHOD.resolve(kd().setAlpha(FloatValue.of(bad)).build(), true));
            assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, e.kind());
            assertEquals("distillation.alpha must be in [0, 1], got " + bad, e.getMessage());
        }
    }

    @Test
    void kdFillsTheSeedDefaultsAndRejectsDkdSettings() {
        Distillation withTeacher = KnowledgeDistillationLoss.METHOD.resolve(Distillation.getDefaultInstance(), true);
        assertEquals("kd", withTeacher.getMethod());
        assertEquals(3f, withTeacher.getTemperature().getValue());
        assertEquals(0.7f, withTeacher.getAlpha().getValue());
        assertTrue(KnowledgeDistillationLoss.METHOD.usesTeacher(withTeacher));
        Distillation alone = KnowledgeDistillationLoss.METHOD.resolve(Distillation.getDefaultInstance(), false);
        assertEquals(0f, alone.getAlpha().getValue());
        assertFalse(KnowledgeDistillationLoss.METHOD.usesTeacher(alone));

        assertEquals("distillation.beta is 8.0 but kd has no beta (it weighs its terms with alpha); beta is for dkd",
                assertThrows(DistilleryException.class, () -> KnowledgeDistillationLoss.METHOD.resolve(
                        kd().setBeta(FloatValue.of(8)).build(), true)).getMessage());
        assertEquals("distillation.warmup_epochs is 5 but kd has no warm-up; warmup_epochs is for dkd",
                assertThrows(DistilleryException.class, () -> KnowledgeDistillationLoss.METHOD.resolve(
                        kd().setWarmupEpochs(Int32Value.of(5)).build(), true)).getMessage());
    }

    private static Distillation.Builder kd() {
        return Distillation.newBuilder().setMethod("kd");
    }

    private static ai.djl.ndarray.NDArray logits(float[] values) {
        return manager.create(values, new Shape(BATCH, CLASSES));
    }

    private static float[] randomLogits(Random random) {
        float[] logits = new float[BATCH * CLASSES];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (random.nextGaussian() * 3);
        }
        return logits;
    }

    /** Random classes with the first {@code unlabelled} set to -1. */
    private static int[] randomLabels(Random random, int unlabelled) {
        int[] labels = new int[BATCH];
        for (int i = 0; i < BATCH; i++) {
            labels[i] = i < unlabelled ? -1 : random.nextInt(CLASSES);
        }
        return labels;
    }

    /** The formula written out term by term in doubles, with no shared code. */
    private static double reference(float[] student, float[] teacher, int[] labels, double t, double alpha) {
        double crossEntropy = 0;
        int labelled = 0;
        double divergence = 0;
        for (int i = 0; i < BATCH; i++) {
            double[] s = new double[CLASSES];
            for (int k = 0; k < CLASSES; k++) {
                s[k] = student[i * CLASSES + k];
            }
            if (labels[i] >= 0) {
                crossEntropy -= Math.log(softmax(s, 1)[labels[i]]);
                labelled++;
            }
            if (alpha > 0) {
                double[] u = new double[CLASSES];
                for (int k = 0; k < CLASSES; k++) {
                    u[k] = teacher[i * CLASSES + k];
                }
                double[] p = softmax(u, t);
                double[] q = softmax(s, t);
                for (int k = 0; k < CLASSES; k++) {
                    divergence += p[k] * Math.log(p[k] / q[k]);
                }
            }
        }
        double hard = labelled == 0 ? 0 : crossEntropy / labelled;
        return (1 - alpha) * hard + alpha * t * t * divergence / BATCH;
    }

    private static double[] softmax(double[] logits, double t) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits) {
            max = Math.max(max, v / t);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int k = 0; k < logits.length; k++) {
            p[k] = Math.exp(logits[k] / t - max);
            sum += p[k];
        }
        for (int k = 0; k < logits.length; k++) {
            p[k] /= sum;
        }
        return p;
    }
}
