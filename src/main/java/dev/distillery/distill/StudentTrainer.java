package dev.distillery.distill;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import dev.distillery.distill.methods.DistillationMethod;
import dev.distillery.distill.optim.LearningRateSchedule;
import dev.distillery.distill.optim.Optimizers;
import dev.distillery.distill.optim.ResumableOptimizer;
import dev.distillery.error.DistilleryException;
import dev.distillery.model.DjlBlocks;
import dev.distillery.model.Network;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Trains a student network with a distillation method's loss (plain cross-entropy for a baseline),
 * an optimizer and a learning-rate schedule, and keeps the parameters of its best epoch.
 *
 * <p>Each epoch takes its mini-batches from {@link StudentData}; each batch lives in its own
 * {@link NDManager}, closed after the optimizer step, so native memory stays flat however long the
 * run. After each epoch the student is scored on the validation images in eval mode (dropout off,
 * BatchNorm on running statistics), the best epoch is kept ({@link BestEpoch}), a
 * {@link TrainerState} goes to the checkpoint consumer and an {@link EpochStats} to the listener, in
 * that order. The engine's random generator (dropout) is reseeded from the seed and the epoch at the
 * start of every epoch, so a run resumed from a checkpoint ends with exactly the model an
 * uninterrupted run makes.
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

    /** Trains a fresh {@code network} on {@code data} with no checkpoints; see the full overload. */
    public TrainedStudent train(Network network, StudentData data, EpochListener listener, BooleanSupplier cancelled) {
        return train(network, data, null, listener, state -> {}, cancelled);
    }

    /**
     * Trains {@code network} on {@code data}, from scratch or from a checkpoint.
     *
     * @param resumeFrom the state after some epoch of this same training; null to start afresh
     * @param checkpoint receives the state after every epoch, before the listener hears of it
     * @param cancelled polled before every batch
     * @return the model with its best epoch's parameters, and the history; the caller closes it
     * @throws CancellationException when {@code cancelled} turned true
     * @throws DistilleryException INVALID_ARGUMENT when the data does not fit the network or method
     */
    public TrainedStudent train(Network network, StudentData data, TrainerState resumeFrom, EpochListener listener,
            Consumer<TrainerState> checkpoint, BooleanSupplier cancelled) {
        DistillationMethod method = options.method();
        checkFits(network, data, method);

        // DJL seeds PyTorch with an int: fold the long so its high bits still count.
        Engine.getInstance().setRandomSeed(Long.hashCode(options.seed()));
        // PyTorch's grad mode is per thread, on by default; DJL turns it off only on the thread that started
        // the engine. A job may train on any thread (a worker's, a test's), and the optimizer updates the
        // parameters in place, which PyTorch refuses for leaves that require grad while grad mode is on.
        JniUtils.setGradMode(false);
        Device device = options.device().resolve();
        Model model = Model.newInstance("student", device);
        try {
            model.setBlock(DjlBlocks.toBlock(network));
            ResumableOptimizer optimizer = Optimizers.create(options.optimizer());
            // The config's loss is not used: each epoch builds its own (DKD's weight warms up by epoch).
            DefaultTrainingConfig config = new DefaultTrainingConfig(
                            method.loss(options.distillation(), options.labelSmoothing(), 1))
                    .optOptimizer(optimizer)
                    .optDevices(new Device[] {device});
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(1, network.channels(), network.height(), network.width()));
                Run run = new Run(trainer, optimizer, method, data, network.classes(), cancelled);
                if (resumeFrom != null) {
                    run.restore(resumeFrom);
                }
                run.epochs(listener, checkpoint);
                return run.finish(model);
            }
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    private void checkFits(Network network, StudentData data, DistillationMethod method) {
        if (method.usesTeacher(options.distillation()) && !data.taught()) {
            throw DistilleryException.invalid(
                    "%s with alpha %s learns from the teacher but there are no teacher logits; kd with alpha 0 trains without a teacher",
                    method.name(), options.distillation().getAlpha().getValue());
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

    /** The engine's seed for epoch {@code epoch}: distinct per epoch, fixed per run seed. */
    private int engineSeed(int epoch) {
        return Long.hashCode(options.seed() * 1_000_003L + epoch);
    }

    /** The state of one training run. */
    private final class Run {

        private final Trainer trainer;
        private final ResumableOptimizer optimizer;
        private final DistillationMethod method;
        private final StudentData data;
        private final int classes;
        private final BooleanSupplier cancelled;
        private final LearningRateSchedule schedule;
        private final int stepsPerEpoch;
        private final BestEpoch best = new BestEpoch(options.patience());
        private final List<EpochStats> history = new ArrayList<>();
        private int finished;

        Run(Trainer trainer, ResumableOptimizer optimizer, DistillationMethod method, StudentData data, int classes,
                BooleanSupplier cancelled) {
            this.trainer = trainer;
            this.optimizer = optimizer;
            this.method = method;
            this.data = data;
            this.classes = classes;
            this.cancelled = cancelled;
            this.schedule = LearningRateSchedule.of(options.schedule(), optimizer.learningRate(), options.epochs());
            this.stepsPerEpoch = (data.trainingCount() + options.batchSize() - 1) / options.batchSize();
        }

        void restore(TrainerState state) {
            state.parameters().restoreInto(block());
            optimizer.restore(state.optimizer(), block().getParameters());
            best.restore(state.best());
            history.addAll(state.history());
            finished = state.epoch();
        }

        void epochs(EpochListener listener, Consumer<TrainerState> checkpoint) {
            long start = System.nanoTime();
            int first = finished + 1;
            while (finished < options.epochs() && !best.exhausted(finished)) {
                int epoch = finished + 1;
                long epochStart = System.nanoTime();
                Engine.getInstance().setRandomSeed(engineSeed(epoch));
                Loss loss = method.loss(options.distillation(), options.labelSmoothing(), epoch);
                double lossSum = 0;
                float rate = optimizer.learningRate();
                int step = 0;
                for (Iterator<Batch> batches = data.trainingEpoch(epoch, options.batchSize()); batches.hasNext(); ) {
                    checkCancelled();
                    Batch batch = batches.next();
                    rate = schedule.rate(epoch, step++, stepsPerEpoch);
                    optimizer.setLearningRate(rate);
                    float batchLoss = trainBatch(loss, batch);
                    if (!Float.isFinite(batchLoss)) {
                        // Every later step would only spread the NaN: stop with what the user can change.
                        throw DistilleryException.precondition("training diverged: the loss became %s at epoch %d, "
                                + "batch %d (learning rate %g); lower optimizer.learning_rate, add warm-up "
                                + "(schedule.warmup_epochs) or check the data", batchLoss, epoch, step, rate);
                    }
                    lossSum += (double) batchLoss * batch.size();
                }
                double trainSeconds = (System.nanoTime() - epochStart) / 1e9;
                double accuracy = validationAccuracy();
                double secondsPerEpoch = (System.nanoTime() - start) / 1e9 / (epoch - first + 1);
                EpochStats stats = new EpochStats(epoch, options.epochs(), lossSum / data.trainingCount(), accuracy,
                        rate, data.trainingCount() / trainSeconds, secondsPerEpoch * (options.epochs() - epoch));
                LOG.debugf("%s", stats);
                history.add(stats);
                best.offer(epoch, accuracy, block());
                finished = epoch;
                checkpoint.accept(new TrainerState(epoch, history, ParameterSnapshot.of(block()),
                        optimizer.state(block().getParameters()), best.best()));
                listener.onEpoch(stats);
            }
        }

        /** Puts the best epoch's parameters into the model and hands it over. */
        TrainedStudent finish(Model model) {
            BestEpoch.Best kept = best.best();
            kept.parameters().restoreInto(block());
            return new TrainedStudent(model, history, kept.epoch(), finished < options.epochs());
        }

        /** One optimizer step; returns the batch's loss. */
        private float trainBatch(Loss loss, Batch batch) {
            try (NDManager manager = trainer.getManager().newSubManager()) {
                NDList labels = new NDList(manager.create(batch.labels()));
                if (batch.teacherLogits() != null) {
                    labels.add(manager.create(batch.teacherLogits(), new Shape(batch.size(), classes)));
                }
                float value;
                try (GradientCollector collector = trainer.newGradientCollector()) {
                    NDList predictions = trainer.forward(new NDList(inputs(manager, batch)));
                    NDArray result = loss.evaluate(labels, predictions);
                    collector.backward(result);
                    value = result.getFloat();
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

        private Block block() {
            return trainer.getModel().getBlock();
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
