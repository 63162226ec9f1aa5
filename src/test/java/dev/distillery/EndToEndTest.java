package dev.distillery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.FloatValue;
import dev.distillery.data.IdxReader;
import dev.distillery.data.ImageSet;
import dev.distillery.v1.Architecture;
import dev.distillery.v1.Augmentation;
import dev.distillery.v1.CancelJobRequest;
import dev.distillery.v1.ConvStage;
import dev.distillery.v1.DataSpec;
import dev.distillery.v1.Distillation;
import dev.distillery.v1.EvaluateRequest;
import dev.distillery.v1.EvaluateResponse;
import dev.distillery.v1.EvaluationGrpc;
import dev.distillery.v1.GetJobRequest;
import dev.distillery.v1.GetModelRequest;
import dev.distillery.v1.Input;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.JobState;
import dev.distillery.v1.ListJobsRequest;
import dev.distillery.v1.ListModelsRequest;
import dev.distillery.v1.ModelEvaluation;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.ModelsGrpc;
import dev.distillery.v1.OptimizerSpec;
import dev.distillery.v1.PredictRequest;
import dev.distillery.v1.PredictResponse;
import dev.distillery.v1.PredictionGrpc;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.Schedule;
import dev.distillery.v1.StudentInput;
import dev.distillery.v1.Sweep;
import dev.distillery.v1.Tensor;
import dev.distillery.v1.TrainRequest;
import dev.distillery.v1.TrainingGrpc;
import dev.distillery.v1.TrialResult;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The whole product over gRPC on a small slice of Fashion-MNIST: train a teacher, distill a student
 * from it, evaluate both, predict, and every bad input answered with the right status.
 */
@QuarkusTest
class EndToEndTest {

    @TestHTTPResource("/")
    URL server;

    private ManagedChannel channel;
    private TrainingGrpc.TrainingBlockingStub training;
    private ModelsGrpc.ModelsBlockingStub models;
    private PredictionGrpc.PredictionBlockingStub prediction;
    private EvaluationGrpc.EvaluationBlockingStub evaluation;

    @BeforeEach
    void connect() {
        channel = ManagedChannelBuilder.forAddress("localhost", TestPorts.grpc()).usePlaintext().build();
        training = TrainingGrpc.newBlockingStub(channel);
        models = ModelsGrpc.newBlockingStub(channel);
        prediction = PredictionGrpc.newBlockingStub(channel);
        evaluation = EvaluationGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void disconnect() {
        channel.shutdownNow();
    }

    private static final Architecture SMALL_CNN = Architecture.newBuilder().setName("cnn")
            .addStages(ConvStage.newBuilder().addChannels(8)).setBatchNorm(true).addHidden(32).build();
    private static final Architecture MLP = Architecture.newBuilder().setName("mlp").addHidden(32).build();

    private static Recipe.Builder recipe(String output, Architecture net) {
        return Recipe.newBuilder().setOutputModel(output).setStudent(net).setEpochs(1).setBatchSize(64).setSeed(3)
                .setData(DataSpec.newBuilder().setDataset("fashion-mnist").setTrainLimit(2000));
    }

    private List<JobEvent> train(Recipe recipe) {
        List<JobEvent> events = new ArrayList<>();
        training.train(TrainRequest.newBuilder().setRecipe(recipe).build()).forEachRemaining(events::add);
        return events;
    }

    private static ModelRef finished(List<JobEvent> events) {
        JobEvent last = events.get(events.size() - 1);
        assertTrue(last.hasFinished(), "job did not finish: " + last);
        return last.getFinished().getModel();
    }

    @Test
    void distillEvaluateAndPredict() throws Exception {
        List<JobEvent> teacherEvents = train(recipe("e2e-teacher", SMALL_CNN).build());
        assertTrue(teacherEvents.get(0).hasQueued());
        assertTrue(teacherEvents.stream().anyMatch(JobEvent::hasEpoch));
        ModelRef teacher = finished(teacherEvents);
        JobEvent epoch = teacherEvents.stream().filter(JobEvent::hasEpoch).findFirst().orElseThrow();
        assertTrue(epoch.getEpoch().getImagesPerSecond() > 0);
        assertTrue(epoch.getEpoch().getValidationAccuracy() > 0.4, "teacher validation accuracy " + epoch);

        Recipe kd = recipe("e2e-student", MLP)
                .setTeacher(ModelRef.newBuilder().setName("e2e-teacher"))
                .setData(DataSpec.newBuilder().setDataset("fashion-mnist").setTrainLimit(2000)
                        .setLabelledFraction(FloatValue.of(0.1f)))
                .build();
        List<JobEvent> studentEvents = train(kd);
        ModelRef student = finished(studentEvents);
        assertTrue(studentEvents.stream().anyMatch(e -> e.hasStage() && e.getStage().getName().equals("teacher")),
                "the teacher's logits were computed");

        // The store on disk: Triton-style layout, lineage with the resolved teacher version and recipe defaults.
        ModelInfo info = models.getModel(GetModelRequest.newBuilder().setModel(student).build());
        Path dir = Path.of("target/test-data/models", student.getName(), Long.toString(student.getVersion()));
        assertTrue(Files.size(dir.resolve("model.onnx")) > 0);
        assertTrue(Files.readString(dir.resolve("model.json")).contains(info.getSha256()));
        assertEquals(teacher.getVersion(), info.getLineage().getTeacher().getVersion());
        assertEquals(0.7f, info.getLineage().getRecipe().getDistillation().getAlpha().getValue());
        assertEquals(3f, info.getLineage().getRecipe().getDistillation().getTemperature().getValue());
        assertEquals(List.of(1L, 28L, 28L), info.getInputShapeList());
        assertEquals("T-shirt/top", info.getLabels(0));

        EvaluateResponse report = evaluation.evaluate(EvaluateRequest.newBuilder().addModels(teacher).addModels(student)
                .setDataset("fashion-mnist").setLimit(500).setLatencySamples(20).build());
        assertEquals(500, report.getImages());
        assertEquals(2, report.getResultsCount());
        for (ModelEvaluation row : report.getResultsList()) {
            assertTrue(row.getTop1Accuracy() > 0.4 && row.getTop1Accuracy() <= row.getTop5Accuracy(), row.toString());
            assertTrue(row.getLatencyP50Ms() > 0 && row.getLatencyP50Ms() <= row.getLatencyP99Ms(), row.toString());
        }
        assertEquals(info.getParameters(), report.getResults(1).getParameters());

        PredictResponse predicted = prediction.predict(PredictRequest.newBuilder().setModel(student).setTopK(3)
                .addInputs(Input.newBuilder().setImage(trouserPng())).build());
        assertEquals(3, predicted.getClassifications(0).getTopCount());
        assertEquals(student, predicted.getModel());

        assertEquals(JobState.JOB_STATE_SUCCEEDED, training.getJob(GetJobRequest.newBuilder()
                .setJobId(studentEvents.get(0).getJobId()).build()).getState());
        assertTrue(training.listJobs(ListJobsRequest.getDefaultInstance()).getJobsCount() >= 2);
        assertTrue(http("/q/metrics").contains("distillery_predict_seconds_bucket"));
        assertTrue(http("/q/health/ready").contains("\"UP\""));
    }

    /** A bright vertical bar on black, roughly a trouser leg: any decodable PNG will do. */
    private static ByteString trouserPng() throws Exception {
        BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 2; y < 26; y++) {
            for (int x = 10; x < 18; x++) {
                image.getRaster().setSample(x, y, 0, 200);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return ByteString.copyFrom(out.toByteArray());
    }

    private String http(String path) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://" + server.getHost() + ":" + server.getPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        return response.body();
    }

    /**
     * An image-folder dataset (a PNG copy of 400 Fashion-MNIST images, written here; configured in the %test
     * profile) with augmentation: the teacher, trained on the IDX files at 28 x 28, teaches a 20 x 20 student
     * on every augmented batch, and the events say so.
     */
    @Test
    void distilOnAnImageFolderWithAugmentation() throws Exception {
        writeFashionMnistPngs(Path.of("target/test-data/fashion-mnist-png"));
        ModelRef teacher = finished(train(recipe("e2e-png-teacher", MLP).build()));

        Recipe recipe = recipe("e2e-png-student", MLP)
                .setTeacher(teacher)
                .setEpochs(2)
                .setBatchSize(32)
                .setStudentInput(StudentInput.newBuilder().setHeight(20).setWidth(20))
                .setData(DataSpec.newBuilder().setDataset("fashion-mnist-png")
                        .setAugmentation(Augmentation.newBuilder().setRandomCropPadding(2).setHorizontalFlip(true)))
                .build();
        List<JobEvent> events = train(recipe);
        ModelRef student = finished(events);
        String stages = events.stream().filter(JobEvent::hasStage)
                .map(e -> e.getStage().getName() + ": " + e.getStage().getMessage()).toList().toString();
        assertTrue(stages.contains("teacher: e2e-png-teacher/" + teacher.getVersion()
                + " runs on every augmented batch (consistent teaching), on 1x28x28 inputs"), stages);
        assertTrue(stages.contains("fashion-mnist-png (imagefolder): 280 training images (180 labelled, 100 without a label)"),
                stages);
        assertTrue(stages.contains("augmentation: random crop with padding 2, horizontal flip"), stages);

        ModelInfo info = models.getModel(GetModelRequest.newBuilder().setModel(student).build());
        assertEquals(List.of(1L, 20L, 20L), info.getInputShapeList());
        assertEquals("gray", info.getPreprocessing().getColor());
        assertEquals(1, info.getPreprocessing().getMeanCount());
        assertEquals("Trouser", info.getLabels(1));

        EvaluateResponse report = evaluation.evaluate(EvaluateRequest.newBuilder().addModels(student).addModels(teacher)
                .setDataset("fashion-mnist-png").setSplit("test").setLatencySamples(5).build());
        assertEquals(100, report.getImages());
        PredictResponse predicted = prediction.predict(PredictRequest.newBuilder().setModel(student)
                .addInputs(Input.newBuilder().setImage(trouserPng())).build());
        assertEquals(3, predicted.getClassifications(0).getTopCount());
    }

    /**
     * The first 300 training images of Fashion-MNIST as {@code train/<label>/<i>.png} (200) and
     * {@code unlabelled/<i>.png} (100), and the first 100 test images as {@code test/<label>/<i>.png}.
     */
    private static void writeFashionMnistPngs(Path root) throws Exception {
        if (Files.exists(root)) {
            try (var paths = Files.walk(root)) {
                for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
        Path source = Path.of("/usr/share/datasets/fashion-mnist");
        ImageSet train = IdxReader.readSplit(source, "train");
        ImageSet test = IdxReader.readSplit(source, "test");
        for (int i = 0; i < 300; i++) {
            writePng(train, i, root.resolve(i < 200 ? "train/" + train.labels()[i] + "/" + i + ".png" : "unlabelled/" + i + ".png"));
        }
        for (int i = 0; i < 100; i++) {
            writePng(test, i, root.resolve("test/" + test.labels()[i] + "/" + i + ".png"));
        }
    }

    private static void writePng(ImageSet images, int index, Path file) throws Exception {
        BufferedImage image = new BufferedImage(images.width(), images.height(), BufferedImage.TYPE_BYTE_GRAY);
        image.getRaster().setDataElements(0, 0, images.width(), images.height(), images.image(index).values());
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(image, "png", file.toFile()));
    }

    @Test
    void aSweepReportsEverySettingAndKeepsTheBest() {
        ModelRef teacher = finished(train(recipe("e2e-sweep-teacher", MLP).build()));
        List<JobEvent> events = train(recipe("e2e-sweep", MLP).setEpochs(2).setTeacher(teacher)
                .setDistillation(Distillation.newBuilder().setSweep(Sweep.newBuilder().addTemperatures(2).addTemperatures(4)))
                .setOptimizer(OptimizerSpec.newBuilder().setName("sgd").setNesterov(true))
                .setSchedule(Schedule.newBuilder().setName("cosine").setWarmupEpochs(1))
                .setLabelSmoothing(0.1f)
                .build());
        JobEvent last = events.get(events.size() - 1);
        ModelRef model = finished(events);

        List<String> settings = events.stream().filter(JobEvent::hasEpoch).map(e -> e.getEpoch().getTrial()).toList();
        assertEquals(List.of("T=2 alpha=0.7", "T=2 alpha=0.7", "T=4 alpha=0.7", "T=4 alpha=0.7"), settings);
        assertTrue(events.stream().filter(JobEvent::hasEpoch).allMatch(e -> e.getEpoch().getLearningRate() > 0));
        List<TrialResult> reported = events.stream().filter(JobEvent::hasTrial).map(JobEvent::getTrial).toList();
        assertEquals(3, reported.size(), "each setting when it ends, then the chosen one: " + reported);
        TrialResult chosen = reported.get(2);
        assertTrue(chosen.getChosen());

        ModelInfo info = models.getModel(GetModelRequest.newBuilder().setModel(model).build());
        assertEquals(2, info.getTraining().getTrialsCount());
        assertEquals(List.of(chosen), info.getTraining().getTrialsList().stream().filter(TrialResult::getChosen).toList());
        assertEquals(chosen.getBestEpoch(), info.getTraining().getBestEpoch());
        assertEquals(chosen.getBestEpoch(), last.getFinished().getBestEpoch());
        assertEquals(chosen.getBestValidationAccuracy(), info.getMetricsOrThrow("validation_accuracy"));
        assertEquals(info.getTraining().getTrialsList(), training.getJob(
                GetJobRequest.newBuilder().setJobId(last.getJobId()).build()).getTrialsList());
    }

    @Test
    void cancelStopsARunningJob() {
        Iterator<JobEvent> events = training.train(TrainRequest.newBuilder()
                .setRecipe(recipe("e2e-cancelled", MLP).setEpochs(10_000)).build());
        String jobId = events.next().getJobId();
        training.cancelJob(CancelJobRequest.newBuilder().setJobId(jobId).build());
        JobEvent last = null;
        while (events.hasNext()) {
            last = events.next();
        }
        assertTrue(last != null && last.hasCancelled(), "last event: " + last);
        assertEquals(JobState.JOB_STATE_CANCELLED,
                training.getJob(GetJobRequest.newBuilder().setJobId(jobId).build()).getState());
    }

    private static void assertStatus(Status.Code code, String mention, Runnable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().getDescription());
        assertTrue(e.getStatus().getDescription().contains(mention),
                "'" + e.getStatus().getDescription() + "' should mention '" + mention + "'");
    }

    private void assertTrainRejected(Status.Code code, String mention, Consumer<Recipe.Builder> change) {
        Recipe.Builder recipe = recipe("e2e-bad", MLP);
        change.accept(recipe);
        assertStatus(code, mention, () -> train(recipe.build()));
    }

    @Test
    void badInputGetsAClearStatusAndTheServerKeepsServing() {
        Status.Code invalid = Status.Code.INVALID_ARGUMENT;
        assertTrainRejected(invalid, "temperature", r -> r.setTeacher(ModelRef.newBuilder().setName("x"))
                .setDistillation(Distillation.newBuilder().setTemperature(FloatValue.of(0f))));
        assertTrainRejected(invalid, "temperature", r -> r.setDistillation(
                Distillation.newBuilder().setTemperature(FloatValue.of(-1f))));
        assertTrainRejected(invalid, "alpha", r -> r.setDistillation(Distillation.newBuilder().setAlpha(FloatValue.of(1.5f))));
        assertTrainRejected(invalid, "alpha", r -> r.setDistillation(Distillation.newBuilder().setAlpha(FloatValue.of(-0.1f))));
        assertTrainRejected(invalid, "no teacher", r -> r.setDistillation(Distillation.newBuilder().setAlpha(FloatValue.of(0.5f))));
        assertTrainRejected(invalid, "epochs", r -> r.setEpochs(0));
        assertTrainRejected(invalid, "transformer", r -> r.setStudent(Architecture.newBuilder().setName("transformer")));
        assertTrainRejected(invalid, "output_model", r -> r.setOutputModel(""));
        assertTrainRejected(Status.Code.NOT_FOUND, "no-such-dataset", r -> r.setData(DataSpec.newBuilder().setDataset("no-such-dataset")));
        assertTrainRejected(Status.Code.NOT_FOUND, "ghost-teacher", r -> r.setTeacher(ModelRef.newBuilder().setName("ghost-teacher")));

        assertStatus(Status.Code.NOT_FOUND, "ghost-model", () -> prediction.predict(PredictRequest.newBuilder()
                .setModel(ModelRef.newBuilder().setName("ghost-model"))
                .addInputs(Input.newBuilder().setImage(ByteString.copyFromUtf8("x"))).build()));
        assertStatus(Status.Code.NOT_FOUND, "ghost-model", () -> evaluation.evaluate(EvaluateRequest.newBuilder()
                .addModels(ModelRef.newBuilder().setName("ghost-model")).setDataset("fashion-mnist").build()));
        assertStatus(Status.Code.NOT_FOUND, "no-such-job", () -> training.getJob(
                GetJobRequest.newBuilder().setJobId("no-such-job").build()));

        ModelRef model = finished(train(recipe("e2e-inputs", MLP).build()));
        assertStatus(invalid, "could not be decoded", () -> prediction.predict(PredictRequest.newBuilder().setModel(model)
                .addInputs(Input.newBuilder().setImage(ByteString.copyFromUtf8("definitely not a PNG"))).build()));
        assertStatus(invalid, "shape", () -> prediction.predict(PredictRequest.newBuilder().setModel(model)
                .addInputs(Input.newBuilder().setTensor(Tensor.newBuilder().addShape(3).addShape(32).addShape(32))).build()));
        assertStatus(invalid, "no inputs", () -> prediction.predict(PredictRequest.newBuilder().setModel(model).build()));
        assertStatus(Status.Code.NOT_FOUND, "version 99", () -> models.getModel(GetModelRequest.newBuilder()
                .setModel(ModelRef.newBuilder().setName(model.getName()).setVersion(99)).build()));

        assertTrue(models.listModels(ListModelsRequest.getDefaultInstance()).getModelsCount() > 0, "still serving");

        // 100 tensors are about 314 KiB: over gRPC's default 256 KiB inbound limit, which the server raises.
        PredictRequest.Builder large = PredictRequest.newBuilder().setModel(model);
        Tensor zeros = Tensor.newBuilder().addShape(1).addShape(28).addShape(28)
                .addAllValues(java.util.Collections.nCopies(784, 0f)).build();
        for (int i = 0; i < 100; i++) {
            large.addInputs(Input.newBuilder().setTensor(zeros));
        }
        assertTrue(large.build().getSerializedSize() > 256 * 1024);
        assertEquals(100, prediction.predict(large.build()).getClassificationsCount());
        assertStatus(Status.Code.RESOURCE_EXHAUSTED, "max-batch", () -> prediction.predict(
                large.addAllInputs(java.util.Collections.nCopies(200, Input.newBuilder().setTensor(zeros).build())).build()));
    }
}
