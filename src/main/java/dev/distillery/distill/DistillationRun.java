package dev.distillery.distill;

import dev.distillery.data.Datasets;
import dev.distillery.data.ImagePipeline;
import dev.distillery.jobs.JobContext;
import dev.distillery.jobs.JobRunner;
import dev.distillery.model.ArchitectureCatalogue;
import dev.distillery.model.Network;
import dev.distillery.serve.ModelSessions;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.Distillation;
import dev.distillery.v1.EpochProgress;
import dev.distillery.v1.Finished;
import dev.distillery.v1.Lineage;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.Preprocessing;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.TrainingSummary;
import dev.distillery.v1.TrialResult;
import java.util.List;

/**
 * Carries out a resolved recipe: prepare the data and the teacher's logits ({@link StudentDataFactory}:
 * computed once when the data is not augmented, on every augmented batch when it is), train the student
 * (every setting of a sweep, keeping the best), export its best epoch to ONNX, store it as a new version
 * and load it for serving.
 * Checkpoints go to the job's work folder after every epoch; a job started again after the server
 * stopped carries on from the last one and makes the same model.
 */
public final class DistillationRun implements JobRunner {

    private final StudentDataFactory dataFactory;
    private final ModelStore store;
    private final ModelSessions sessions;
    private final ArchitectureCatalogue catalogue;
    private final String defaultDevice;

    /** {@code defaultDevice} is used for recipes that say "auto". */
    public DistillationRun(Datasets datasets, ModelStore store, ModelSessions sessions,
            ArchitectureCatalogue catalogue, String defaultDevice) {
        this.dataFactory = new StudentDataFactory(datasets, sessions);
        this.store = store;
        this.sessions = sessions;
        this.catalogue = catalogue;
        this.defaultDevice = defaultDevice;
    }

    @Override
    public Finished run(Recipe recipe, JobContext context) {
        long started = System.nanoTime();
        StudentDataFactory.Prepared prepared = dataFactory.open(recipe,
                recipe.hasTeacher() && SweepRun.usesTeacher(recipe.getDistillation()), context);
        Datasets.Dataset dataset = prepared.dataset();
        ImagePipeline input = prepared.student();
        Network network = catalogue.build(Recipes.spec(recipe.getStudent()), input.channels(), input.height(),
                input.width(), dataset.labels().size());
        context.stage("training", String.format("%s with %,d parameters, %d epochs, %s, %s",
                recipe.getStudent().getName(), network.parameterCount(), recipe.getEpochs(),
                !prepared.data().taught() ? "labels only" : method(recipe.getDistillation()), optimizer(recipe)));
        CheckpointFile checkpoints = new CheckpointFile(context.workDirectory());
        SweepProgress start = resumePoint(recipe, checkpoints, context);
        TrainingDevice device = TrainingDevice.parse(recipe.getDevice().equals("auto") ? defaultDevice : recipe.getDevice());
        try (StudentData data = prepared.data()) {
            SweepRun.Outcome outcome = new SweepRun(recipe, device, checkpoints)
                    .run(network, data, start, events(context), context::cancelled);
            outcome.trials().stream().filter(TrialResult::getChosen).forEach(context::trial);
            TrialOutcome chosen = outcome.chosen();
            ModelInfo card = card(recipe, network, dataset, input.preprocessing(), context.jobId())
                    .putMetrics("validation_accuracy", chosen.best().validationAccuracy())
                    .putMetrics("train_loss", chosen.best().meanLoss())
                    .putMetrics("train_images", prepared.trainCount())
                    .putMetrics("labelled_images", prepared.labelledCount())
                    .putMetrics("images_per_second", chosen.best().imagesPerSecond())
                    .putMetrics("train_seconds", seconds(started))
                    .setTraining(TrainingSummary.newBuilder()
                            .setBestEpoch(chosen.best().epoch())
                            .setEpochsRun(chosen.epochsRun())
                            .setEarlyStopped(chosen.earlyStopped())
                            .addAllTrials(outcome.trials()))
                    .build();
            ModelInfo stored = store.add(recipe.getOutputModel(), chosen.onnx(), card);
            context.stage("export", String.format("ONNX of epoch %d written to %s, %d bytes", chosen.best().epoch(),
                    store.modelFile(stored.getName(), stored.getVersion()), chosen.onnx().length));
            sessions.publish(stored);
            return Finished.newBuilder()
                    .setModel(ModelRef.newBuilder().setName(stored.getName()).setVersion(stored.getVersion()))
                    .setValidationAccuracy(chosen.best().validationAccuracy())
                    .setBestEpoch(chosen.best().epoch())
                    .setSeconds(seconds(started))
                    .build();
        }
    }

    /**
     * Where the job's checkpoint says to carry on; the start when there is none. A resumed sweep
     * reports its finished settings again, as the job's record may predate them.
     */
    private static SweepProgress resumePoint(Recipe recipe, CheckpointFile checkpoints, JobContext context) {
        SweepProgress saved = checkpoints.load().orElse(null);
        if (saved == null) {
            return SweepProgress.START;
        }
        int settings = SweepRun.settings(recipe.getDistillation()).size();
        context.stage("resume", saved.current() == null
                ? String.format("resumed from the checkpoint in %s: %d of %d settings finished",
                        checkpoints.file().getParent(), saved.trials().size(), settings)
                : String.format("resumed from the checkpoint after epoch %d (%d of %d settings finished before it), in %s",
                        saved.current().epoch(), saved.trials().size(), settings, checkpoints.file().getParent()));
        if (SweepRun.isSweep(recipe.getDistillation())) {
            saved.trials().forEach(context::trial);
        }
        return saved;
    }

    /** Epochs and finished settings as job events. */
    private static SweepRun.Listener events(JobContext context) {
        return new SweepRun.Listener() {
            @Override
            public void onEpoch(String trial, EpochStats stats) {
                context.epoch(progress(trial, stats));
            }

            @Override
            public void onTrial(TrialResult result) {
                context.trial(result);
            }
        };
    }

    /** E.g. "kd T=3 alpha=0.7", "dkd sweep of 4 settings". */
    private static String method(Distillation distillation) {
        return SweepRun.isSweep(distillation)
                ? String.format("%s sweep of %d settings", distillation.getMethod(), SweepRun.settings(distillation).size())
                : distillation.getMethod() + " " + SweepRun.label(distillation);
    }

    /** E.g. "sgd lr 0.05, cosine schedule". */
    private static String optimizer(Recipe recipe) {
        return String.format("%s lr %s, %s schedule", recipe.getOptimizer().getName(),
                recipe.getOptimizer().getLearningRate().getValue(), recipe.getSchedule().getName());
    }

    private static ModelInfo.Builder card(Recipe recipe, Network network, Datasets.Dataset dataset,
            Preprocessing preprocessing, String jobId) {
        Lineage.Builder lineage = Lineage.newBuilder().setDataset(dataset.name()).setRecipe(recipe).setJobId(jobId);
        if (recipe.hasTeacher()) {
            lineage.setTeacher(recipe.getTeacher());
        }
        return ModelInfo.newBuilder()
                .setParameters(network.parameterCount())
                .addAllLabels(dataset.labels())
                .addAllInputShape(List.of((long) network.channels(), (long) network.height(), (long) network.width()))
                .setPreprocessing(preprocessing)
                .setLineage(lineage)
                .setArchitecture(recipe.getStudent());
    }

    private static EpochProgress progress(String trial, EpochStats stats) {
        return EpochProgress.newBuilder()
                .setEpoch(stats.epoch())
                .setEpochs(stats.epochs())
                .setTrainLoss(stats.meanLoss())
                .setValidationAccuracy(stats.validationAccuracy())
                .setTrial(trial)
                .setLearningRate(stats.learningRate())
                .setImagesPerSecond(stats.imagesPerSecond())
                .setEtaSeconds(stats.etaSeconds())
                .build();
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
