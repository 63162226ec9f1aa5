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
import dev.distillery.error.DistilleryException;
import dev.distillery.model.DjlBlocks;
import dev.distillery.model.Network;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import org.jboss.logging.Logger;

/**
 * Trains a student network with {@link KnowledgeDistillationLoss} and AdamW on precomputed teacher
 * logits (or on labels alone when α = 0).
 *
 * <p>Each epoch takes its mini-batches from {@link StudentData}; each batch
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
            Network network, StudentData data, EpochListener listener, BooleanSupplier cancelled) {
        KnowledgeDistillationLoss loss = KnowledgeDistillationLoss.builder()
                .optTemperature(options.temperature())
                .optAlpha(options.alpha())
                .build();
        checkFits(network, data);

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
                Run run = new Run(trainer, data, network.classes(), cancelled);
                return new TrainedStudent(model, run.epochs(listener));
            }
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    private void checkFits(Network network, StudentData data) {
        if (options.alpha() > 0 && !data.taught()) {
            throw DistilleryException.invalid(
                    "alpha is %s but there are no teacher logits; alpha 0 trains without a teacher",
                    options.alpha());
        }
        if (!Arrays.equals(data.inputShape(), network.inputShape())) {
            throw DistilleryException.invalid("the network takes %s images but the data has %s",
                    new Shape(network.inputShape()), new Shape(data.inputShape()));
        }
        if (data.classes() != network.classes()) {
            throw DistilleryException.invalid("the network has %d classes but the data has %d",
                    network.classes(), data.classes());
        }
    }

    /** The state of one training run. */
    private final class Run {

        private final Trainer trainer;
        private final StudentData data;
        private final int classes;
        private final BooleanSupplier cancelled;

        Run(Trainer trainer, StudentData data, int classes, BooleanSupplier cancelled) {
            this.trainer = trainer;
            this.data = data;
            this.classes = classes;
            this.cancelled = cancelled;
        }

        List<EpochStats> epochs(EpochListener listener) {
            List<EpochStats> history = new ArrayList<>();
            long start = System.nanoTime();
            for (int epoch = 1; epoch <= options.epochs(); epoch++) {
                long epochStart = System.nanoTime();
                double lossSum = 0;
                for (Iterator<Batch> batches = data.trainingEpoch(epoch, options.batchSize()); batches.hasNext(); ) {
                    checkCancelled();
                    Batch batch = batches.next();
                    lossSum += (double) trainBatch(batch) * batch.size();
                }
                double trainSeconds = (System.nanoTime() - epochStart) / 1e9;
                double accuracy = validationAccuracy();
                double secondsPerEpoch = (System.nanoTime() - start) / 1e9 / epoch;
                EpochStats stats = new EpochStats(
                        epoch, options.epochs(), lossSum / data.trainingCount(), accuracy,
                        data.trainingCount() / trainSeconds, secondsPerEpoch * (options.epochs() - epoch));
                LOG.debugf("%s", stats);
                history.add(stats);
                listener.onEpoch(stats);
            }
            return history;
        }

        /** One optimizer step; returns the batch's loss. */
        private float trainBatch(Batch batch) {
            try (NDManager manager = trainer.getManager().newSubManager()) {
                NDList labels = new NDList(manager.create(batch.labels()));
                if (batch.teacherLogits() != null && options.alpha() > 0) {
                    labels.add(manager.create(batch.teacherLogits(), new Shape(batch.size(), classes)));
                }
                float value;
                try (GradientCollector collector = trainer.newGradientCollector()) {
                    NDList predictions = trainer.forward(new NDList(inputs(manager, batch)));
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
            if (data.validationCount() == 0) {
                return Double.NaN;
            }
            int correct = 0;
            for (Iterator<Batch> batches = data.validation(options.batchSize()); batches.hasNext(); ) {
                checkCancelled();
                Batch batch = batches.next();
                try (NDManager manager = trainer.getManager().newSubManager()) {
                    long[] predicted = trainer.evaluate(new NDList(inputs(manager, batch))).head().argMax(1).toLongArray();
                    for (int i = 0; i < batch.size(); i++) {
                        correct += predicted[i] == batch.labels()[i] ? 1 : 0;
                    }
                }
            }
            return (double) correct / data.validationCount();
        }

        private void checkCancelled() {
            if (cancelled.getAsBoolean()) {
                throw new CancellationException("training was cancelled");
            }
        }

        /** The batch's inputs as an (N, C, H, W) array. */
        private NDArray inputs(NDManager manager, Batch batch) {
            long[] shape = data.inputShape();
            return manager.create(batch.inputs(), new Shape(batch.size(), shape[0], shape[1], shape[2]));
        }
    }
}
