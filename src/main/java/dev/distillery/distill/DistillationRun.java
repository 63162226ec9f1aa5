package dev.distillery.distill;

import dev.distillery.data.Datasets;
import dev.distillery.data.ImagePipeline;
import dev.distillery.export.OnnxExporter;
import dev.distillery.jobs.JobContext;
import dev.distillery.jobs.JobRunner;
import dev.distillery.model.ArchitectureCatalogue;
import dev.distillery.model.Network;
import dev.distillery.serve.ModelSessions;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.EpochProgress;
import dev.distillery.v1.Finished;
import dev.distillery.v1.Lineage;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.Preprocessing;
import dev.distillery.v1.Recipe;
import java.util.List;

/**
 * Carries out a resolved recipe: prepare the data and the teacher's logits ({@link StudentDataFactory}:
 * computed once when the data is not augmented, on every augmented batch when it is), train the student,
 * export it to ONNX, store it as a new version and load it for serving.
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
        float alpha = recipe.getDistillation().getAlpha().getValue();
        StudentDataFactory.Prepared prepared = dataFactory.open(recipe, recipe.hasTeacher() && alpha > 0, context);
        Datasets.Dataset dataset = prepared.dataset();
        ImagePipeline input = prepared.student();
        Network network = catalogue.build(Recipes.spec(recipe.getStudent()), input.channels(), input.height(),
                input.width(), dataset.labels().size());
        TrainingOptions options = new TrainingOptions(recipe.getEpochs(), recipe.getBatchSize(),
                recipe.getOptimizer().getLearningRate().getValue(), recipe.getOptimizer().getWeightDecay().getValue(),
                recipe.getDistillation().getTemperature().getValue(), alpha, recipe.getSeed(),
                TrainingDevice.parse(recipe.getDevice().equals("auto") ? defaultDevice : recipe.getDevice()));
        context.stage("training", String.format("%s with %,d parameters, %d epochs, %s",
                recipe.getStudent().getName(), network.parameterCount(), recipe.getEpochs(),
                !prepared.data().taught() ? "labels only" : String.format("KD T %.2f alpha %.2f",
                        options.temperature(), options.alpha())));
        try (StudentData data = prepared.data();
                TrainedStudent student = new StudentTrainer(options)
                        .train(network, data, stats -> context.epoch(progress(stats)), context::cancelled)) {
            byte[] onnx = new OnnxExporter().export(network, student.model().getBlock());
            EpochStats last = student.history().get(student.history().size() - 1);
            ModelInfo card = card(recipe, network, dataset, input.preprocessing(), context.jobId())
                    .putMetrics("validation_accuracy", last.validationAccuracy())
                    .putMetrics("train_loss", last.meanLoss())
                    .putMetrics("train_images", prepared.trainCount())
                    .putMetrics("labelled_images", prepared.labelledCount())
                    .putMetrics("images_per_second", last.imagesPerSecond())
                    .putMetrics("train_seconds", seconds(started))
                    .build();
            ModelInfo stored = store.add(recipe.getOutputModel(), onnx, card);
            context.stage("export", String.format("ONNX written to %s, %d bytes",
                    store.modelFile(stored.getName(), stored.getVersion()), onnx.length));
            sessions.publish(stored);
            return Finished.newBuilder()
                    .setModel(ModelRef.newBuilder().setName(stored.getName()).setVersion(stored.getVersion()))
                    .setValidationAccuracy(last.validationAccuracy())
                    .setSeconds(seconds(started))
                    .build();
        }
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

    private static EpochProgress progress(EpochStats stats) {
        return EpochProgress.newBuilder()
                .setEpoch(stats.epoch())
                .setEpochs(stats.epochs())
                .setTrainLoss(stats.meanLoss())
                .setValidationAccuracy(stats.validationAccuracy())
                .setImagesPerSecond(stats.imagesPerSecond())
                .setEtaSeconds(stats.etaSeconds())
                .build();
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
