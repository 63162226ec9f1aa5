package dev.distillery.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.google.protobuf.Int32Value;
import dev.distillery.data.ImageSet;
import dev.distillery.data.Normalization;
import dev.distillery.data.TrainingSplit;
import dev.distillery.distill.methods.DistillationMethods;
import dev.distillery.error.DistilleryException;
import dev.distillery.export.OnnxExporter;
import dev.distillery.model.ArchitectureCatalogue;
import dev.distillery.model.ArchitectureSpec;
import dev.distillery.model.Layer;
import dev.distillery.model.Network;
import dev.distillery.v1.Distillation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StudentTrainerTest {

    private static final int CLASSES = SyntheticPatches.CLASSES;
    private static final int SIDE = SyntheticPatches.SIDE;

    private static final Network MLP = new Network(
            new ArchitectureSpec("mlp", List.of(32), List.of(), false, 0), 1, SIDE, SIDE, CLASSES,
            List.of(new Layer.Flatten(), new Layer.Dense(SIDE * SIDE, 32), new Layer.Relu(),
                    new Layer.Dense(32, CLASSES)));

    /** conv(1->4) - BatchNorm - ReLU - pool - flatten - dense(64->16) - ReLU - dropout - dense(16->10). */
    private static final Network CNN = new Network(
            new ArchitectureSpec("cnn", List.of(16), List.of(List.of(4)), true, 0.2f), 1, SIDE, SIDE, CLASSES,
            List.of(new Layer.Conv2d(1, 4, 3, 1), new Layer.BatchNorm2d(4, 1e-5f, 0.9f), new Layer.Relu(),
                    new Layer.MaxPool2d(2), new Layer.Flatten(), new Layer.Dense(4 * 4 * 4, 16),
                    new Layer.Relu(), new Layer.Dropout(0.2f), new Layer.Dense(16, CLASSES)));

    private static final TrainingSplit SPLIT =
            TrainingSplit.of(SyntheticPatches.images(600, 1), 0, 0.2f, 1f, 2);

    @Test
    void mlpLearnsFromLabels() {
        List<EpochStats> history = train(MLP, options(0, 4, 7), data(SPLIT, null));

        assertTrue(last(history).validationAccuracy() > 0.8, "accuracy " + last(history));
    }

    @Test
    void cnnWithBatchNormAndDropoutLearnsFromLabels() {
        List<EpochStats> history = train(CNN, options(0, 4, 7), data(SPLIT, null));

        assertTrue(last(history).validationAccuracy() > 0.8, "accuracy " + last(history));
    }

    /** Residual units, bias-free convolutions and global pooling train too; 8 channels at width 0.5. */
    @Test
    void resnet8LearnsFromLabels() {
        Network resnet8 = ArchitectureCatalogue.standard().build(
                new ArchitectureSpec("resnet", List.of(), List.of(), false, 0, 8, 0.5f), 1, SIDE, SIDE, CLASSES);

        List<EpochStats> history = train(resnet8, options(0, 2, 7), data(SPLIT, null));

        assertTrue(last(history).validationAccuracy() > 0.8, "accuracy " + last(history));
    }

    @Test
    void distilsIntoATransferSetWithATenthOfTheLabels() {
        TrainingSplit split = TrainingSplit.of(SyntheticPatches.images(600, 1), 0, 0.2f, 0.1f, 2);
        List<EpochStats> reported = new ArrayList<>();

        List<EpochStats> history;
        try (TrainedStudent student = new StudentTrainer(options(0.7f, 3, 7)).train(
                MLP, data(split, SyntheticPatches.teacherLogits(split.train())), reported::add, () -> false)) {
            history = student.history();
        }

        assertEquals(history, reported);
        assertEquals(3, history.size());
        for (int i = 0; i < history.size(); i++) {
            EpochStats stats = history.get(i);
            assertEquals(i + 1, stats.epoch());
            assertEquals(3, stats.epochs());
            assertTrue(Double.isFinite(stats.meanLoss()) && stats.meanLoss() > 0, stats.toString());
            assertTrue(stats.imagesPerSecond() > 0, stats.toString());
            assertTrue(stats.etaSeconds() >= 0, stats.toString());
        }
        assertEquals(0, last(history).etaSeconds());
        assertTrue(last(history).meanLoss() < history.get(0).meanLoss(), history.toString());
        assertTrue(last(history).validationAccuracy() > 0.8, "accuracy " + last(history));
    }

    @Test
    void theSameSeedRepeatsTheRunExactly() {
        StudentData data = data(SPLIT, SyntheticPatches.teacherLogits(SPLIT.train()));

        double[] first = losses(train(MLP, options(0.5f, 2, 3), data));
        double[] again = losses(train(MLP, options(0.5f, 2, 3), data));
        double[] otherSeed = losses(train(MLP, options(0.5f, 2, 4), data));

        assertArrayEquals(first, again);
        assertNotEquals(first[0], otherSeed[0]);
    }

    @Test
    void cancellationStopsBetweenBatches() {
        AtomicInteger polls = new AtomicInteger();
        StudentTrainer trainer = new StudentTrainer(options(0, 3, 7));

        assertThrows(CancellationException.class, () -> trainer.train(
                MLP, data(SPLIT, null), stats -> {}, () -> polls.incrementAndGet() > 5));
        assertEquals(6, polls.get());
    }

    @Test
    void aLossThatStopsBeingFiniteEndsTheRunWithWhatToChange() {
        TrainingOptions reckless = new TrainingOptions(3, 32, Fixtures.kd(3, 0), 0f, Fixtures.adamw(1e30f),
                Fixtures.CONSTANT, 0, 7, TrainingDevice.CPU);

        DistilleryException e = assertThrows(DistilleryException.class,
                () -> train(MLP, reckless, data(SPLIT, null)));

        assertEquals(DistilleryException.Kind.FAILED_PRECONDITION, e.kind());
        assertTrue(e.getMessage().startsWith("training diverged: the loss became"), e.getMessage());
        assertTrue(e.getMessage().contains("lower optimizer.learning_rate"), e.getMessage());
    }

    @Test
    void rejectsDataThatDoesNotFitTheNetwork() {
        TrainingOptions distilling = options(0.7f, 1, 7);
        assertInvalid("no teacher logits", () -> train(MLP, distilling, data(SPLIT, null)));
        assertInvalid("teacher logits hold 10 values",
                () -> train(MLP, distilling, data(SPLIT, new float[CLASSES])));

        TrainingOptions supervised = options(0, 1, 7);
        ImageSet wide = new ImageSet(1, 1, SIDE, SIDE + 1, new byte[SIDE * (SIDE + 1)], new int[] {0});
        assertInvalid("the network takes (1, 8, 8) images but the data has (1, 8, 9)",
                () -> train(MLP, supervised, alone(wide)));
        ImageSet badLabel = new ImageSet(1, 1, SIDE, SIDE, new byte[SIDE * SIDE], new int[] {CLASSES});
        assertInvalid("label 10 is out of range", () -> train(MLP, supervised, alone(badLabel)));
        ImageSet unlabelled = new ImageSet(1, 1, SIDE, SIDE, new byte[SIDE * SIDE], new int[] {-1});
        assertInvalid("none of the 1 training images has a label",
                () -> train(MLP, supervised, alone(unlabelled)));
    }

    @Test
    void theBestEpochIsKeptAndEarlyStoppingEndsTheRun() {
        // After epoch 2 the training labels shift by one class: validation accuracy peaks, then falls.
        StudentData data = new RelabelledAfter(data(SPLIT, null), 2);
        TrainingOptions options = new TrainingOptions(12, 32, Fixtures.kd(3, 0), 0f, Fixtures.adamw(0.01f),
                Fixtures.CONSTANT, 3, 7, TrainingDevice.CPU);
        List<TrainerState> states = new ArrayList<>();

        try (TrainedStudent student = new StudentTrainer(options).train(MLP, data, null, stats -> {}, states::add,
                () -> false)) {
            List<EpochStats> history = student.history();
            int best = 1;
            for (EpochStats stats : history) {
                best = stats.validationAccuracy() > history.get(best - 1).validationAccuracy() ? stats.epoch() : best;
            }
            assertTrue(best <= 3 && last(history).validationAccuracy() < 0.5, history.toString());
            assertEquals(best, student.bestEpoch());
            assertEquals(best + 3, history.size(), "three epochs without a better accuracy, then stop");
            assertTrue(student.earlyStopped());
            assertEquals(history.get(best - 1), student.best());
            assertSameValues(states.get(best - 1).parameters(), ParameterSnapshot.of(student.model().getBlock()));
        }
    }

    @Test
    void withoutValidationImagesTheLastEpochIsKept() {
        TrainingSplit split = TrainingSplit.of(SyntheticPatches.images(200, 1), 0, 0f, 1f, 2);
        List<TrainerState> states = new ArrayList<>();
        try (TrainedStudent student = new StudentTrainer(options(0, 3, 7)).train(MLP, data(split, null), null,
                stats -> {}, states::add, () -> false)) {
            assertTrue(Double.isNaN(student.best().validationAccuracy()));
            assertEquals(3, student.bestEpoch());
            assertFalse(student.earlyStopped());
            assertSameValues(states.get(2).parameters(), ParameterSnapshot.of(student.model().getBlock()));
        }
    }

    @Test
    void aRunResumedFromItsCheckpointMakesTheSameModel(@TempDir Path work) {
        // Dropout, BatchNorm statistics, Nesterov momentum, a warm-up and cosine schedule, label smoothing,
        // a teacher on a transfer set: every piece of state a resume has to carry.
        TrainingSplit split = TrainingSplit.of(SyntheticPatches.images(600, 1), 0, 0.2f, 0.5f, 2);
        StudentData data = data(split, SyntheticPatches.teacherLogits(split.train()));
        TrainingOptions options = new TrainingOptions(5, 32, Fixtures.kd(2, 0.5f), 0.1f, Fixtures.nesterov(0.05f),
                dev.distillery.v1.Schedule.newBuilder().setName("cosine").setWarmupEpochs(1).build(), 0, 11,
                TrainingDevice.CPU);
        ParameterSnapshot straight;
        byte[] straightOnnx;
        List<EpochStats> straightHistory;
        try (TrainedStudent student = new StudentTrainer(options).train(CNN, data, stats -> {}, () -> false)) {
            straight = ParameterSnapshot.of(student.model().getBlock());
            straightOnnx = new OnnxExporter().export(CNN, student.model().getBlock());
            straightHistory = student.history();
        }

        CheckpointFile checkpoints = new CheckpointFile(work);
        assertThrows(IllegalStateException.class, () -> new StudentTrainer(options).train(CNN, data, null, stats -> {
            if (stats.epoch() == 2) {
                throw new IllegalStateException("the server stops here");
            }
        }, state -> checkpoints.save(SweepProgress.START.during(state)), () -> false));
        TrainerState saved = checkpoints.load().orElseThrow().current();
        assertEquals(2, saved.epoch());

        List<EpochStats> resumedEpochs = new ArrayList<>();
        try (TrainedStudent student = new StudentTrainer(options).train(CNN, data, saved, resumedEpochs::add,
                state -> {}, () -> false)) {
            assertSameValues(straight, ParameterSnapshot.of(student.model().getBlock()));
            assertArrayEquals(straightOnnx, new OnnxExporter().export(CNN, student.model().getBlock()));
            assertEquals(learning(straightHistory), learning(student.history()));
        }
        assertEquals(List.of(3, 4, 5), resumedEpochs.stream().map(EpochStats::epoch).toList());
    }

    @Test
    void garbageCollectionsDuringTrainingChangeNothing() {
        // A loss's constants must live until the backward pass: with the collector running all the
        // while, every method trains exactly as it does undisturbed (before the fix kd stalled near
        // chance, as in UploadedTeacherTest, or went NaN).
        TrainingSplit split = TrainingSplit.of(SyntheticPatches.images(600, 1), 0, 0.2f, 0.25f, 2);
        StudentData data = data(split, SyntheticPatches.teacherLogits(split.train()));
        Distillation dkd = DistillationMethods.get("dkd").resolve(Distillation.newBuilder().setMethod("dkd")
                .setWarmupEpochs(Int32Value.of(0)).build(), true);
        Map<String, List<EpochStats>> collected = new LinkedHashMap<>();
        for (Distillation method : List.of(Fixtures.kd(3, 0.7f), dkd)) {
            TrainingOptions options = new TrainingOptions(3, 32, method, 0.1f, Fixtures.adamw(0.01f),
                    Fixtures.CONSTANT, 0, 7, TrainingDevice.CPU);
            List<EpochStats> undisturbed = train(CNN, options, data);
            try (CollectorLoop collector = new CollectorLoop()) {
                collected.put(method.getMethod(), train(CNN, options, data));
            }
            assertEquals(learning(undisturbed), learning(collected.get(method.getMethod())), method.getMethod());
        }

        List<EpochStats> kd = collected.get("kd");
        assertTrue(last(kd).meanLoss() < kd.get(0).meanLoss(), kd.toString());
        assertTrue(last(kd).validationAccuracy() > 0.8, kd.toString());
    }

    @Test
    void devicesParseAndAMissingGpuFallsBackToTheCpu() {
        assertEquals(TrainingDevice.AUTO, TrainingDevice.parse(""));
        assertEquals(TrainingDevice.GPU, TrainingDevice.parse("GPU"));
        assertInvalid("device must be \"auto\", \"cpu\" or \"gpu\", got \"tpu\"",
                () -> TrainingDevice.parse("tpu"));
        assertEquals(Device.cpu(), TrainingDevice.CPU.resolve());
        if (ai.djl.engine.Engine.getInstance().getGpuCount() == 0) {
            assertEquals(Device.cpu(), TrainingDevice.GPU.resolve());
            assertEquals(Device.cpu(), TrainingDevice.AUTO.resolve());
        }
    }

    private static void assertInvalid(String messagePart, Runnable action) {
        DistilleryException e = assertThrows(DistilleryException.class, action::run);
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, e.kind());
        assertTrue(e.getMessage().contains(messagePart), e.getMessage());
    }

    private static TrainingOptions options(float alpha, int epochs, long seed) {
        return new TrainingOptions(epochs, 32, Fixtures.kd(3, alpha), 0f, Fixtures.adamw(0.01f), Fixtures.CONSTANT, 0,
                seed, TrainingDevice.CPU);
    }

    private static StudentData data(TrainingSplit split, float[] teacherLogits) {
        return new InMemoryStudentData(split.train(), teacherLogits, split.validation(),
                Normalization.fit(split.train()), CLASSES, 7);
    }

    /** {@code images} to train and validate on, without a teacher. */
    private static StudentData alone(ImageSet images) {
        Normalization normalization = new Normalization(new float[] {0.5f}, new float[] {0.25f});
        return new InMemoryStudentData(images, null, images, normalization, CLASSES, 7);
    }

    private static List<EpochStats> train(Network network, TrainingOptions options, StudentData data) {
        StudentTrainer trainer = new StudentTrainer(options);
        try (TrainedStudent student = trainer.train(network, data, stats -> {}, () -> false)) {
            return student.history();
        }
    }

    /** What an epoch learned, without its timings. */
    private static List<List<Double>> learning(List<EpochStats> history) {
        return history.stream().map(e -> List.of((double) e.epoch(), e.meanLoss(), e.validationAccuracy(),
                e.learningRate())).toList();
    }

    private static void assertSameValues(ParameterSnapshot expected, ParameterSnapshot actual) {
        assertEquals(expected.values().keySet(), actual.values().keySet());
        expected.values().forEach((name, values) -> assertArrayEquals(values, actual.values().get(name), name));
    }

    /** Asks for a garbage collection over and over on a daemon thread, until closed. */
    private static final class CollectorLoop implements AutoCloseable {

        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread = new Thread(() -> {
            while (running.get()) {
                System.gc();
            }
        }, "garbage-collections");

        CollectorLoop() {
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close() {
            running.set(false);
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** {@code data} whose training labels move to the next class after epoch {@code after}. */
    private record RelabelledAfter(StudentData data, int after) implements StudentData {

        @Override
        public long[] inputShape() {
            return data.inputShape();
        }

        @Override
        public int classes() {
            return data.classes();
        }

        @Override
        public boolean taught() {
            return data.taught();
        }

        @Override
        public int trainingCount() {
            return data.trainingCount();
        }

        @Override
        public int validationCount() {
            return data.validationCount();
        }

        @Override
        public Iterator<Batch> trainingEpoch(int epoch, int batchSize) {
            Iterator<Batch> batches = data.trainingEpoch(epoch, batchSize);
            return epoch <= after ? batches : new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return batches.hasNext();
                }

                @Override
                public Batch next() {
                    Batch batch = batches.next();
                    int[] shifted = Arrays.stream(batch.labels()).map(y -> (y + 1) % CLASSES).toArray();
                    return new Batch(batch.size(), batch.inputs(), shifted, batch.teacherLogits());
                }
            };
        }

        @Override
        public Iterator<Batch> validation(int batchSize) {
            return data.validation(batchSize);
        }
    }

    private static double[] losses(List<EpochStats> history) {
        return history.stream().mapToDouble(EpochStats::meanLoss).toArray();
    }

    private static EpochStats last(List<EpochStats> history) {
        return history.get(history.size() - 1);
    }
}
