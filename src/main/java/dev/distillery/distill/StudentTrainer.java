package dev.distillery.distill;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.distillery.data.ImageSet;
import dev.distillery.data.Permutations;
import dev.distillery.error.DistilleryException;
import dev.distillery.model.DjlBlocks;
import dev.distillery.model.Network;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.jboss.logging.Logger;

/**
 * Trains a student network with {@link KnowledgeDistillationLoss} and AdamW on precomputed teacher
 * logits (or on labels alone when α = 0).
 *
 * <p>Each epoch visits the training images in a fresh seeded order, in mini-batches; each batch
 * lives in its own {@link NDManager}, closed after the optimizer step, so native memory stays flat
 * however long the run. After each epoch the student is scored on the validation images in eval
 * mode (dropout off, BatchNorm on running statistics) and an {@link EpochStats} goes to the
 * listener.
 *
 * <p>The PyTorch engine allows one gradient collector per JVM at a time, so run one training at a
 * time.
 */
public final class StudentTrainer {

    private static final Logger LOG = Logger.getLogger(StudentTrainer.class);

    private final TrainingOptions options;

    public StudentTrainer(TrainingOptions options) {
        this.options = options;
    }

    /**
     * Trains a fresh {@code network} on {@code data}.
     *
     * @param cancelled polled before every batch
     * @return the trained model and its per-epoch history; the caller closes it
     * @throws CancellationException when {@code cancelled} turned true
     * @throws DistilleryException INVALID_ARGUMENT when the options or data do not fit the network
     */
    public TrainedStudent train(
            Network network, TrainingData data, EpochListener listener, BooleanSupplier cancelled) {
        KnowledgeDistillationLoss loss = KnowledgeDistillationLoss.builder()
                .optTemperature(options.temperature())
                .optAlpha(options.alpha())
                .build();
        float[] teacherLogits = options.alpha() > 0 ? data.teacherLogits() : null;
        // Without a teacher an unlabelled image contributes nothing: leave it out of every batch.
        ImageSet train = teacherLogits == null ? labelledOnly(data.train()) : data.train();
        checkFits(network, train, teacherLogits, data.validation());

        // DJL seeds PyTorch with an int: fold the long so its high bits still count.
        Engine.getInstance().setRandomSeed(Long.hashCode(options.seed()));
        Device device = options.device().resolve();
        Model model = Model.newInstance("student", device);
        try {
            model.setBlock(DjlBlocks.toBlock(network));
            DefaultTrainingConfig config = new DefaultTrainingConfig(loss)
                    .optOptimizer(Optimizer.adamW()
                            .optLearningRateTracker(Tracker.fixed(options.learningRate()))
                            .optWeightDecays(options.weightDecay())
                            .build())
                    .optDevices(new Device[] {device});
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(1, network.channels(), network.height(), network.width()));
                Run run = new Run(trainer, data, train, teacherLogits, network.classes(), cancelled);
                return new TrainedStudent(model, run.epochs(listener));
            }
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    private static ImageSet labelledOnly(ImageSet images) {
        int[] labels = images.labels();
        int[] labelledIndices = IntStream.range(0, images.count()).filter(i -> labels[i] >= 0).toArray();
        ImageSet labelled = images.select(labelledIndices);
        if (labelled.count() == 0) {
            throw DistilleryException.invalid(
                    "none of the %d training images has a label, and there is no teacher to learn from",
                    images.count());
        }
        return labelled;
    }

    private void checkFits(Network network, ImageSet train, float[] teacherLogits, ImageSet validation) {
        if (options.alpha() > 0 && teacherLogits == null) {
            throw DistilleryException.invalid(
                    "alpha is %s but there are no teacher logits; alpha 0 trains without a teacher",
                    options.alpha());
        }
        if (train.count() == 0) {
            throw DistilleryException.invalid("there are no training images");
        }
        if (teacherLogits != null && teacherLogits.length != (long) train.count() * network.classes()) {
            throw DistilleryException.invalid(
                    "teacher logits hold %d values, expected %d images x %d classes",
                    teacherLogits.length, train.count(), network.classes());
        }
        for (ImageSet images : List.of(train, validation)) {
            long[] shape = {images.channels(), images.height(), images.width()};
            if (!Arrays.equals(shape, network.inputShape())) {
                throw DistilleryException.invalid(
                        "the network takes %s images but the data has %s",
                        new Shape(network.inputShape()), new Shape(shape));
            }
            int highest = Arrays.stream(images.labels()).max().orElse(-1);
            if (highest >= network.classes()) {
                throw DistilleryException.invalid(
                        "label %d is out of range for a network with %d classes",
                        highest, network.classes());
            }
        }
    }

    private static int[] labelsAt(ImageSet images, int[] indices) {
        int[] labels = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            labels[i] = images.labels()[indices[i]];
        }
        return labels;
    }

    /** The state of one training run. */
    private final class Run {

        private final Trainer trainer;
        private final TrainingData data;
        private final ImageSet train;
        private final float[] teacherLogits;
        private final int classes;
        private final BooleanSupplier cancelled;

        Run(Trainer trainer, TrainingData data, ImageSet train, float[] teacherLogits, int classes,
                BooleanSupplier cancelled) {
            this.trainer = trainer;
            this.data = data;
            this.train = train;
            this.teacherLogits = teacherLogits;
            this.classes = classes;
            this.cancelled = cancelled;
        }

        List<EpochStats> epochs(EpochListener listener) {
            List<EpochStats> history = new ArrayList<>();
            Random shuffle = new Random(options.seed());
            long start = System.nanoTime();
            for (int epoch = 1; epoch <= options.epochs(); epoch++) {
                long epochStart = System.nanoTime();
                double lossSum = 0;
                for (int[] batch : batches(Permutations.random(train.count(), shuffle))) {
                    lossSum += (double) trainBatch(batch) * batch.length;
                }
                double trainSeconds = (System.nanoTime() - epochStart) / 1e9;
                double accuracy = validationAccuracy();
                double secondsPerEpoch = (System.nanoTime() - start) / 1e9 / epoch;
                EpochStats stats = new EpochStats(
                        epoch, options.epochs(), lossSum / train.count(), accuracy,
                        train.count() / trainSeconds, secondsPerEpoch * (options.epochs() - epoch));
                LOG.debugf("%s", stats);
                history.add(stats);
                listener.onEpoch(stats);
            }
            return history;
        }

        /** One optimizer step; returns the batch's loss. */
        private float trainBatch(int[] batch) {
            checkCancelled();
            try (NDManager manager = trainer.getManager().newSubManager()) {
                NDList labels = new NDList(manager.create(labelsAt(train, batch)));
                if (teacherLogits != null) {
                    labels.add(manager.create(teacherRows(batch), new Shape(batch.length, classes)));
                }
                float value;
                try (GradientCollector collector = trainer.newGradientCollector()) {
                    NDList predictions = trainer.forward(new NDList(inputs(manager, train, batch)));
                    NDArray loss = trainer.getLoss().evaluate(labels, predictions);
                    collector.backward(loss);
                    value = loss.getFloat();
                }
                trainer.step();
                return value;
            }
        }

        /** Top-1 accuracy in eval mode, or NaN without validation images. */
        private double validationAccuracy() {
            ImageSet validation = data.validation();
            if (validation.count() == 0) {
                return Double.NaN;
            }
            int correct = 0;
            for (int[] batch : batches(IntStream.range(0, validation.count()).toArray())) {
                checkCancelled();
                try (NDManager manager = trainer.getManager().newSubManager()) {
                    NDList inputs = new NDList(inputs(manager, validation, batch));
                    long[] predicted = trainer.evaluate(inputs).head().argMax(1).toLongArray();
                    int[] expected = labelsAt(validation, batch);
                    for (int i = 0; i < batch.length; i++) {
                        correct += predicted[i] == expected[i] ? 1 : 0;
                    }
                }
            }
            return (double) correct / validation.count();
        }

        /** Consecutive slices of {@code order}, {@code batchSize} long (the last may be shorter). */
        private List<int[]> batches(int[] order) {
            List<int[]> batches = new ArrayList<>();
            int size = options.batchSize();
            for (int from = 0; from < order.length; from += size) {
                batches.add(Arrays.copyOfRange(order, from, Math.min(order.length, from + size)));
            }
            return batches;
        }

        private void checkCancelled() {
            if (cancelled.getAsBoolean()) {
                throw new CancellationException("training was cancelled");
            }
        }

        /** Normalised images at {@code indices} as an (N, C, H, W) array. */
        private NDArray inputs(NDManager manager, ImageSet images, int[] indices) {
            return manager.create(
                    data.normalization().apply(images, indices),
                    new Shape(indices.length, images.channels(), images.height(), images.width()));
        }

        private float[] teacherRows(int[] indices) {
            float[] rows = new float[indices.length * classes];
            for (int i = 0; i < indices.length; i++) {
                System.arraycopy(teacherLogits, indices[i] * classes, rows, i * classes, classes);
            }
            return rows;
        }
    }
}
