package dev.distillery.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.distillery.data.ImageSet;
import dev.distillery.data.Normalization;
import dev.distillery.data.TrainingSplit;
import dev.distillery.error.DistilleryException;
import dev.distillery.model.ArchitectureCatalogue;
import dev.distillery.model.ArchitectureSpec;
import dev.distillery.model.Layer;
import dev.distillery.model.Network;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

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
        TrainingData data = data(SPLIT, SyntheticPatches.teacherLogits(SPLIT.train()));

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
        return new TrainingOptions(epochs, 32, 0.01f, 0.01f, 3f, alpha, seed, TrainingDevice.CPU);
    }

    private static TrainingData data(TrainingSplit split, float[] teacherLogits) {
        return new TrainingData(
                split.train(), teacherLogits, split.validation(), Normalization.fit(split.train()));
    }

    /** {@code images} to train and validate on, without a teacher. */
    private static TrainingData alone(ImageSet images) {
        Normalization normalization = new Normalization(new float[] {0.5f}, new float[] {0.25f});
        return new TrainingData(images, null, images, normalization);
    }

    private static List<EpochStats> train(Network network, TrainingOptions options, TrainingData data) {
        StudentTrainer trainer = new StudentTrainer(options);
        try (TrainedStudent student = trainer.train(network, data, stats -> {}, () -> false)) {
            return student.history();
        }
    }

    private static double[] losses(List<EpochStats> history) {
        return history.stream().mapToDouble(EpochStats::meanLoss).toArray();
    }

    private static EpochStats last(List<EpochStats> history) {
        return history.get(history.size() - 1);
    }
}
