package dev.distillery.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import dev.distillery.client.ServerConnection;
import dev.distillery.v1.Architecture;
import dev.distillery.v1.CancelJobRequest;
import dev.distillery.v1.ClassScore;
import dev.distillery.v1.Classification;
import dev.distillery.v1.DeleteModelRequest;
import dev.distillery.v1.DeleteModelResponse;
import dev.distillery.v1.DownloadModelResponse;
import dev.distillery.v1.EpochProgress;
import dev.distillery.v1.EvaluateRequest;
import dev.distillery.v1.EvaluateResponse;
import dev.distillery.v1.Failed;
import dev.distillery.v1.Finished;
import dev.distillery.v1.GetModelRequest;
import dev.distillery.v1.Job;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.JobState;
import dev.distillery.v1.Lineage;
import dev.distillery.v1.ListJobsResponse;
import dev.distillery.v1.ListModelsResponse;
import dev.distillery.v1.ModelEvaluation;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.PredictRequest;
import dev.distillery.v1.PredictResponse;
import dev.distillery.v1.Queued;
import dev.distillery.v1.Stage;
import dev.distillery.v1.TrainRequest;
import dev.distillery.v1.TrialResult;
import dev.distillery.v1.UploadHeader;
import dev.distillery.v1.UploadModelRequest;
import dev.distillery.v1.WatchJobRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.io.BufferedWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every command end to end against fake services in-process: what it sends, what it prints, and its
 * exit code. Ctrl-C is pressed through {@link ManualInterrupts}, at the moment a given line has been
 * printed, as a user reading the progress would.
 */
class CommandLineTest {

    @TempDir
    Path dir;

    private FakeDistillery server;
    private final ManualInterrupts interrupts = new ManualInterrupts();
    private final List<String> targetsOpened = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        server = new FakeDistillery();
    }

    @AfterEach
    void stop() throws InterruptedException {
        server.close();
    }

    // --- train, watch, jobs

    @Test
    void trainSubmitsTheRecipeFileAndPrintsALineForEveryEventUntilTheModel() throws IOException {
        server.stream = List.of(
                event("job-1").setQueued(Queued.newBuilder().setPosition(1)).build(),
                event("job-1").setStage(Stage.newBuilder().setName("teacher").setMessage("logits of 54000 images")).build(),
                event("job-1").setEpoch(epoch(1, 2, "T=2 alpha=0.9", 65)).build(),
                event("job-1").setEpoch(epoch(2, 2, "", 4000)).build(),
                event("job-1").setTrial(TrialResult.newBuilder().setTemperature(2).setAlpha(0.9f)
                        .setBestValidationAccuracy(0.8612).setBestEpoch(2).setEpochsRun(2).setChosen(true)).build(),
                event("job-1").setFinished(Finished.newBuilder().setModel(ref("fmnist-student-sweep", 3))
                        .setValidationAccuracy(0.8612).setSeconds(12.4).setBestEpoch(2)).build());

        Run run = run("train", "recipes/sweep.yaml");

        assertEquals(0, run.exitCode(), run.err());
        assertEquals(List.of(
                "job job-1 queued (1 ahead)",
                "teacher: logits of 54000 images",
                "[T=2 alpha=0.9] epoch 1/2  loss 0.5000  val acc 80.00 %  1000 images/s  ETA 1 min 05 s",
                "epoch 2/2  loss 0.5000  val acc 80.00 %  1000 images/s  ETA 1 h 06 min",
                "trial T=2 alpha=0.9: best val acc 86.12 % at epoch 2 of 2 (kept)",
                "finished in 12 s: fmnist-student-sweep version 3 (best epoch 2, val acc 86.12 %)"), run.outLines());
        assertEquals("", run.err());
        TrainRequest sent = (TrainRequest) server.requests.get(0);
        assertEquals(RecipeFile.read(Path.of("recipes/sweep.yaml")), sent.getRecipe());
    }

    @Test
    void ctrlCDetachesFromTheJobAndSaysHowToFollowItAgain() throws InterruptedException {
        server.stream = List.of(
                event("job-7").setQueued(Queued.newBuilder()).build(),
                event("job-7").setEpoch(epoch(1, 3, "", 30)).build());
        server.holdOpen = true;

        Run run = runInterruptedAfter("epoch 1/3", "train", "recipes/reference-teacher.yaml");

        assertEquals(JobFollower.DETACHED, run.exitCode(), run.err());
        assertEquals("detached from job job-7: it goes on running on the server; follow it again with: "
                + "distillery watch job-7", run.outLines().get(run.outLines().size() - 1));
        assertTrue(server.awaitCancelled(), "the client's stream was cancelled");
        // Only the stream: the job itself was never cancelled.
        assertTrue(server.requests.stream().noneMatch(CancelJobRequest.class::isInstance));
        assertEquals("", run.err());
    }

    @Test
    void detachSubmitsAndReturnsOnceTheJobIsQueued() throws InterruptedException {
        server.stream = List.of(event("job-8").setQueued(Queued.newBuilder().setPosition(2)).build());
        server.holdOpen = true;

        Run run = run("train", "recipes/dkd.yaml", "--detach");

        assertEquals(0, run.exitCode(), run.err());
        assertEquals(List.of("job job-8 queued (2 ahead)",
                "job job-8 goes on running on the server; follow it with: distillery watch job-8"), run.outLines());
        assertTrue(server.awaitCancelled());
    }

    @Test
    void aFailedJobIsAnErrorLineAndExitCodeOne() {
        server.stream = List.of(
                event("job-2").setQueued(Queued.newBuilder()).build(),
                event("job-2").setFailed(Failed.newBuilder().setMessage("teacher 'fmnist-teacher' has 10 classes, "
                        + "the dataset 5")).build());

        Run run = run("train", "recipes/transfer-set.yaml");

        assertEquals(1, run.exitCode());
        assertEquals(List.of("job job-2 queued (0 ahead)"), run.outLines());
        assertEquals("error: job job-2 failed: teacher 'fmnist-teacher' has 10 classes, the dataset 5\n", run.err());
    }

    @Test
    void aRecipeTheServerRefusesIsOneLineWithItsStatus() {
        server.streamError = Status.INVALID_ARGUMENT
                .withDescription("distillation.temperature must be > 0, got -1").asRuntimeException();

        Run run = run("train", "recipes/reference-student.yaml");

        assertEquals(1, run.exitCode());
        assertEquals("", run.out());
        assertEquals("error: INVALID_ARGUMENT: distillation.temperature must be > 0, got -1\n", run.err());
    }

    @Test
    void aBadRecipeFileIsReportedBeforeAnythingIsSent() throws IOException {
        Path recipe = Files.writeString(dir.resolve("typo.yaml"), "output_model: s\nepochz: 3\n");

        Run run = run("train", recipe.toString());

        assertEquals(1, run.exitCode());
        assertTrue(run.err().startsWith("error: " + recipe + ": unknown key 'epochz'; Recipe's fields are "), run.err());
        assertEquals(1, run.err().lines().count());
        assertTrue(server.requests.isEmpty());

        Run missing = run("train", dir.resolve("nowhere.yaml").toString());
        assertEquals(1, missing.exitCode());
        assertEquals("error: no such file: " + dir.resolve("nowhere.yaml") + "\n", missing.err());
    }

    @Test
    void watchFollowsAJobByIdToItsEnd() {
        server.stream = List.of(
                event("job-9").setEpoch(epoch(3, 3, "", 0)).build(),
                event("job-9").setFinished(Finished.newBuilder().setModel(ref("m", 1)).setSeconds(3)).build());

        Run run = run("watch", "job-9");

        assertEquals(0, run.exitCode(), run.err());
        assertEquals(List.of("epoch 3/3  loss 0.5000  val acc 80.00 %  1000 images/s  ETA 0 s",
                "finished in 3 s: m version 1"), run.outLines());
        assertEquals("job-9", ((WatchJobRequest) server.requests.get(0)).getJobId());
    }

    @Test
    void watchCanBeInterruptedToo() throws InterruptedException {
        server.stream = List.of(event("job-3").setEpoch(epoch(1, 9, "", 9)).build());
        server.holdOpen = true;

        Run run = runInterruptedAfter("epoch 1/9", "watch", "job-3");

        assertEquals(JobFollower.DETACHED, run.exitCode());
        assertTrue(run.out().contains("distillery watch job-3"), run.out());
        assertTrue(server.awaitCancelled());
    }

    @Test
    void jobsListsEveryJobAsATable() {
        server.answer = request -> ListJobsResponse.newBuilder()
                .addJobs(Job.newBuilder().setId("3f1c").setState(JobState.JOB_STATE_RUNNING)
                        .setRecipe(RecipeFile.parse("output_model: student-b\n", "r"))
                        .addEpochs(epoch(4, 10, "T=3 alpha=0.7", 60)))
                .addJobs(Job.newBuilder().setId("a07e").setState(JobState.JOB_STATE_SUCCEEDED)
                        .setModel(ref("student-a", 2)))
                .addJobs(Job.newBuilder().setId("9d2b").setState(JobState.JOB_STATE_FAILED)
                        .setRecipe(RecipeFile.parse("output_model: broken\n", "r")).setError("x".repeat(80)))
                .build();

        Run run = run("jobs");

        assertEquals(0, run.exitCode(), run.err());
        List<String> lines = run.outLines();
        assertEquals(4, lines.size(), run.out());
        assertTrue(lines.get(0).matches("id\\s+state\\s+model\\s+created\\s+progress"), lines.get(0));
        assertTrue(lines.get(1).matches("3f1c\\s+running\\s+student-b\\s+-\\s+epoch 4/10 \\[T=3 alpha=0.7], "
                + "val acc 80.00 %"), lines.get(1));
        assertTrue(lines.get(2).matches("a07e\\s+succeeded\\s+student-a/2\\s+-\\s+-"), lines.get(2));
        assertTrue(lines.get(3).endsWith("x".repeat(57) + "..."), lines.get(3));
    }

    @Test
    void jobsCancelCancelsTheJob() {
        server.answer = request -> Job.newBuilder().setId(((CancelJobRequest) request).getJobId())
                .setState(JobState.JOB_STATE_CANCELLED).build();

        Run run = run("jobs", "cancel", "job-4");

        assertEquals(0, run.exitCode(), run.err());
        assertEquals("job job-4: cancelled\n", run.out());
    }

    // --- models

    @Test
    void uploadSendsTheHeaderThenTheFileInOrderedChunks() throws IOException {
        byte[] onnx = new byte[FileUpload.CHUNK_BYTES * 2 + 12345];
        new Random(7).nextBytes(onnx);
        Path file = Files.write(dir.resolve("teacher.onnx"), onnx);
        Path labels = Files.writeString(dir.resolve("labels.txt"), "cat\ndog\nT-shirt/top\n\n");
        server.answer = header -> ModelInfo.newBuilder().setName(((UploadHeader) header).getName()).setVersion(4)
                .setParameters(1234567).addAllInputShape(List.of(3L, 32L, 32L)).addAllLabels(((UploadHeader) header)
                        .getLabelsList()).setSha256("ab12").build();

        Run run = run("models", "upload", file.toString(), "--name", "big-teacher", "--labels", labels.toString(),
                "--color", "rgb", "--resize", "36", "--center-crop", "--mean", "0.485,0.456,0.406",
                "--std", "0.229,0.224,0.225", "--input-shape", "3,32,32", "--metric", "test_accuracy=0.93");

        assertEquals(0, run.exitCode(), run.err());
        assertEquals("uploaded big-teacher version 4: 1,234,567 parameters, input 3x32x32, 3 classes, sha256 ab12\n",
                run.out());
        List<UploadModelRequest> parts = List.copyOf(server.uploaded);
        assertEquals(4, parts.size(), "a header and three chunks");
        UploadHeader header = parts.get(0).getHeader();
        assertEquals("big-teacher", header.getName());
        assertEquals(List.of("cat", "dog", "T-shirt/top"), header.getLabelsList());
        assertEquals("rgb", header.getPreprocessing().getColor());
        assertEquals(36, header.getPreprocessing().getResize());
        assertTrue(header.getPreprocessing().getCenterCrop());
        assertEquals(List.of(0.485f, 0.456f, 0.406f), header.getPreprocessing().getMeanList());
        assertEquals(List.of(0.229f, 0.224f, 0.225f), header.getPreprocessing().getStdList());
        assertEquals(List.of(3L, 32L, 32L), header.getInputShapeList());
        assertEquals(0.93, header.getMetricsOrThrow("test_accuracy"));
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        for (UploadModelRequest part : parts.subList(1, parts.size())) {
            assertTrue(part.hasChunk());
            assertTrue(part.getChunk().size() <= FileUpload.CHUNK_BYTES);
            part.getChunk().writeTo(received);
        }
        assertArrayEquals(onnx, received.toByteArray());
    }

    @Test
    void uploadWithoutPreprocessingOptionsLeavesItToTheServer() throws IOException {
        Path file = Files.write(dir.resolve("small.onnx"), new byte[] {1, 2, 3});
        Path labels = Files.writeString(dir.resolve("labels.txt"), "a\nb\n");
        server.answer = header -> ModelInfo.newBuilder().setName("small").setVersion(1).build();

        Run run = run("models", "upload", file.toString(), "--name", "small", "--labels", labels.toString());

        assertEquals(0, run.exitCode(), run.err());
        assertFalse(server.uploaded.get(0).getHeader().hasPreprocessing());
        assertEquals(ByteString.copyFrom(new byte[] {1, 2, 3}), server.uploaded.get(1).getChunk());
    }

    @Test
    void aLabelsFileWithAGapIsRefusedBeforeUploading() throws IOException {
        Path file = Files.write(dir.resolve("m.onnx"), new byte[] {1});
        Path labels = Files.writeString(dir.resolve("labels.txt"), "cat\n\ndog\n");

        Run run = run("models", "upload", file.toString(), "--name", "m", "--labels", labels.toString());

        assertEquals(1, run.exitCode());
        assertEquals("error: " + labels + ": line 2 is empty; write one class name per line, in the order of the "
                + "model's outputs\n", run.err());
        assertTrue(server.uploaded.isEmpty());
    }

    @Test
    void uploadRefusedByTheServerIsOneLine() throws IOException {
        Path file = Files.write(dir.resolve("m.onnx"), new byte[] {1});
        Path labels = Files.writeString(dir.resolve("labels.txt"), "cat\n");
        server.answer = header -> {
            throw Status.INVALID_ARGUMENT.withDescription("model.onnx is not an ONNX model:\nprotobuf parse error")
                    .asRuntimeException();
        };

        Run run = run("models", "upload", file.toString(), "--name", "m", "--labels", labels.toString());

        assertEquals(1, run.exitCode());
        assertEquals("error: INVALID_ARGUMENT: model.onnx is not an ONNX model: protobuf parse error\n", run.err());
    }

    @Test
    void downloadWritesModelOnnxAndModelJson() throws Exception {
        byte[] onnx = new byte[3000];
        new Random(3).nextBytes(onnx);
        ModelInfo card = card("fmnist-student", 2).setSha256(sha256(onnx)).addAllVersions(List.of(1L, 2L)).build();
        server.stream = List.of(
                DownloadModelResponse.newBuilder().setInfo(card).build(),
                DownloadModelResponse.newBuilder().setChunk(ByteString.copyFrom(onnx, 0, 1000)).build(),
                DownloadModelResponse.newBuilder().setChunk(ByteString.copyFrom(onnx, 1000, 2000)).build());
        Path out = dir.resolve("out");

        Run run = run("models", "download", "fmnist-student:2", "-o", out.toString());

        assertEquals(0, run.exitCode(), run.err());
        assertArrayEquals(onnx, Files.readAllBytes(out.resolve("model.onnx")));
        ModelInfo.Builder written = ModelInfo.newBuilder();
        JsonFormat.parser().merge(Files.readString(out.resolve("model.json")), written);
        assertEquals(card.toBuilder().clearVersions().build(), written.build());
        assertFalse(Files.exists(out.resolve("model.onnx.part")));
        assertTrue(run.out().startsWith("downloaded fmnist-student version 2: "), run.out());
    }

    @Test
    void aDownloadThatDoesNotMatchItsChecksumIsNotKept() throws IOException {
        server.stream = List.of(
                DownloadModelResponse.newBuilder().setInfo(card("m", 1).setSha256("00ff")).build(),
                DownloadModelResponse.newBuilder().setChunk(ByteString.copyFromUtf8("not the file")).build());
        Path out = dir.resolve("out");

        Run run = run("models", "download", "m", "-o", out.toString());

        assertEquals(1, run.exitCode());
        assertTrue(run.err().startsWith("error: model.onnx of m/1 arrived with SHA-256 "), run.err());
        assertFalse(Files.exists(out.resolve("model.onnx")));
        assertFalse(Files.exists(out.resolve("model.onnx.part")));
    }

    @Test
    void modelsListIsATable() {
        server.answer = request -> ListModelsResponse.newBuilder()
                .addModels(card("fmnist-teacher", 1).addVersions(1))
                .addModels(card("fmnist-student", 3).addAllVersions(List.of(1L, 2L, 3L))
                        .setLineage(Lineage.newBuilder().setTeacher(ref("fmnist-teacher", 1))))
                .addModels(ModelInfo.newBuilder().setName("onnx-teacher").setVersion(1).addVersions(1)
                        .setParameters(25_557_032).addAllInputShape(List.of(3L, 224L, 224L)))
                .build();

        Run run = run("models", "list");

        assertEquals(0, run.exitCode(), run.err());
        List<String> lines = run.outLines();
        assertTrue(lines.get(0).matches("name\\s+version\\s+versions\\s+parameters\\s+input\\s+classes\\s+created\\s+origin"),
                lines.get(0));
        assertTrue(lines.get(1).matches("fmnist-teacher\\s+1\\s+1\\s+9,098\\s+1x28x28\\s+10\\s+2026-11-30 09:20Z\\s+"
                + "trained on labels"), lines.get(1));
        assertTrue(lines.get(2).matches("fmnist-student\\s+3\\s+3\\s+9,098\\s+1x28x28\\s+10\\s+2026-11-30 09:20Z\\s+"
                + "distilled from fmnist-teacher/1"), lines.get(2));
        assertTrue(lines.get(3).matches("onnx-teacher\\s+1\\s+1\\s+25,557,032\\s+3x224x224\\s+0\\s+-\\s+uploaded"),
                lines.get(3));
    }

    @Test
    void modelsShowPrintsASummaryOrTheJsonCard() throws Exception {
        ModelInfo card = card("fmnist-student", 3).putMetrics("validation_accuracy", 0.8671)
                .putMetrics("train_images", 2700).build();
        server.answer = request -> card;

        Run summary = run("models", "show", "fmnist-student");
        Run json = run("models", "show", "fmnist-student:3", "--json");

        assertEquals(0, summary.exitCode(), summary.err());
        assertTrue(summary.outLines().get(0).equals("fmnist-student version 3"), summary.out());
        assertTrue(summary.out().contains("labels               10: T-shirt/top, Trouser,"), summary.out());
        assertTrue(summary.out().contains("validation_accuracy  0.8671\n"), summary.out());
        assertTrue(summary.out().contains("train_images         2700\n"), summary.out());
        assertEquals(ref("fmnist-student", 0), ((GetModelRequest) server.requests.get(0)).getModel());
        assertEquals(ref("fmnist-student", 3), ((GetModelRequest) server.requests.get(1)).getModel());
        ModelInfo.Builder parsed = ModelInfo.newBuilder();
        JsonFormat.parser().merge(json.out(), parsed);
        assertEquals(card, parsed.build());
    }

    @Test
    void modelsDeleteSaysWhichVersionsWent() {
        server.answer = request -> DeleteModelResponse.newBuilder().setName("old").addAllDeletedVersions(List.of(1L, 2L))
                .build();

        Run run = run("models", "delete", "old");

        assertEquals(0, run.exitCode(), run.err());
        assertEquals("deleted old versions 1, 2\n", run.out());
        assertEquals(ref("old", 0), ((DeleteModelRequest) server.requests.get(0)).getModel());
    }

    // --- eval and predict

    @Test
    void evalPrintsTheSeedsTable() {
        server.answer = request -> EvaluateResponse.newBuilder().setDataset("fashion-mnist").setSplit("test")
                .setImages(500)
                .addResults(ModelEvaluation.newBuilder().setModel(ref("fmnist-teacher", 1)).setParameters(468_202)
                        .setTop1Accuracy(0.8945).setTop5Accuracy(0.9981).setLatencyP50Ms(0.370).setLatencyP99Ms(1.2))
                .addResults(ModelEvaluation.newBuilder().setModel(ref("fmnist-student", 2)).setParameters(9_098)
                        .setTop1Accuracy(0.8671).setTop5Accuracy(0.9952).setLatencyP50Ms(0.027).setLatencyP99Ms(0.12))
                .build();

        Run run = run("eval", "fmnist-teacher", "fmnist-student:2", "--dataset", "fashion-mnist", "--limit", "500");

        assertEquals(0, run.exitCode(), run.err());
        assertEquals(List.of(
                "fashion-mnist, test split, 500 images; time per image at batch 1 on ONNX Runtime",
                "model             parameters    top-1    top-5  p50 ms  p99 ms",
                "fmnist-teacher/1     468,202  89.45 %  99.81 %   0.370   1.200",
                "fmnist-student/2       9,098  86.71 %  99.52 %   0.027   0.120"), run.outLines());
        EvaluateRequest sent = (EvaluateRequest) server.requests.get(0);
        assertEquals(List.of(ref("fmnist-teacher", 0), ref("fmnist-student", 2)), sent.getModelsList());
        assertEquals("test", sent.getSplit());
        assertEquals(500, sent.getLimit());
    }

    @Test
    void predictSendsTheImagesAsOneBatchAndPrintsTheTopClassesOfEach() throws IOException {
        Path shoe = Files.write(dir.resolve("shoe.png"), new byte[] {1, 2});
        Path bag = Files.write(dir.resolve("bag.png"), new byte[] {3});
        server.answer = request -> PredictResponse.newBuilder().setModel(ref("fmnist-student", 2))
                .addClassifications(Classification.newBuilder().addTop(score("Sneaker", 0.931f)).addTop(score("Sandal", 0.04f)))
                .addClassifications(Classification.newBuilder().addTop(score("Bag", 0.99f)).addTop(score("Dress", 0.005f)))
                .build();

        Run run = run("predict", "fmnist-student", shoe.toString(), bag.toString(), "--top", "2");

        assertEquals(0, run.exitCode(), run.err());
        assertEquals("fmnist-student/2", run.outLines().get(0));
        assertTrue(run.outLines().get(1).matches("  \\S*shoe\\.png  Sneaker 93\\.1 %  Sandal 4\\.0 %"), run.out());
        assertTrue(run.outLines().get(2).matches("  \\S*bag\\.png \\s*Bag 99\\.0 %  Dress 0\\.5 %"), run.out());
        PredictRequest sent = (PredictRequest) server.requests.get(0);
        assertEquals(2, sent.getTopK());
        assertEquals(ByteString.copyFrom(new byte[] {1, 2}), sent.getInputs(0).getImage());
        assertEquals(ByteString.copyFrom(new byte[] {3}), sent.getInputs(1).getImage());
    }

    // --- errors and the target

    @Test
    void aStatusFromTheServerIsOneLineAndExitCodeOne() {
        server.answer = request -> {
            throw Status.NOT_FOUND.withDescription("no model named 'ghost'; the store has fmnist-student")
                    .asRuntimeException();
        };

        Run run = run("models", "show", "ghost");

        assertEquals(1, run.exitCode());
        assertEquals("", run.out());
        assertEquals("error: NOT_FOUND: no model named 'ghost'; the store has fmnist-student\n", run.err());
    }

    @Test
    void noServerGivesTheHintToStartOne() {
        Run run = runAt("nobody-listens-here", "models", "list");

        assertEquals(1, run.exitCode());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().startsWith("error: UNAVAILABLE: "), run.err());
        assertTrue(run.err().contains("(is the server running at nobody-listens-here? ./distillery serve starts one; "
                + "a server with TLS needs --tls-ca)"),
                run.err());
        assertFalse(run.err().contains("\tat "), "no stack trace");
    }

    @Test
    void usageErrorsAreOneLineAndExitCodeTwo() {
        Run badVersion = run("models", "show", "m:latest");
        assertEquals(2, badVersion.exitCode());
        assertEquals(1, badVersion.err().lines().count(), badVersion.err());
        assertTrue(badVersion.err().contains("the version after ':' must be a whole number from 1"), badVersion.err());
        assertTrue(badVersion.err().endsWith("(see: distillery models show --help)\n"), badVersion.err());

        Run missingOption = run("eval", "m");
        assertEquals(2, missingOption.exitCode());
        assertTrue(missingOption.err().startsWith("error: Missing required option: '--dataset=NAME'"), missingOption.err());

        Run typo = run("modles", "list");
        assertEquals(2, typo.exitCode());
        assertTrue(typo.err().contains("did you mean models?"), typo.err());
        assertTrue(server.requests.isEmpty());
    }

    @Test
    void theTargetDefaultsToTheLocalServerPort() {
        server.answer = request -> ListModelsResponse.getDefaultInstance();
        CommandLine cli = Distillery.commandLine(new Distillery(connection -> {
            targetsOpened.add(connection.target());
            return InProcessChannelBuilder.forName(server.name).build();
        }, interrupts));
        cli.setOut(new PrintWriter(new StringWriter()));

        assertEquals(0, cli.execute("models", "list"));
        String port = System.getenv().getOrDefault("DISTILLERY_PORT", "8080");
        assertEquals(List.of("localhost:" + port), targetsOpened);
    }

    @Test
    void theTokenAndTheTlsCaReachTheConnection() {
        server.answer = request -> ListModelsResponse.getDefaultInstance();
        List<ServerConnection> opened = new ArrayList<>();
        CommandLine cli = Distillery.commandLine(new Distillery(connection -> {
            opened.add(connection);
            return InProcessChannelBuilder.forName(server.name).build();
        }, interrupts));
        cli.setOut(new PrintWriter(new StringWriter()));

        assertEquals(0, cli.execute("models", "list", "--target", "h:1", "--token", " t0ken \n", "--tls-ca", "ca.pem"));
        assertEquals(0, cli.execute("models", "list", "--target", "h:1", "--token", "  "));
        assertEquals(new ServerConnection("h:1", Optional.of("t0ken"), Optional.of(Path.of("ca.pem"))), opened.get(0));
        assertEquals(Optional.empty(), opened.get(1).token(), "a blank token is no token");
    }

    // --- helpers

    private Run run(String... args) {
        return runAt(server.name, args);
    }

    private Run runAt(String target, String... args) {
        return execute(new StringWriter(), args, target);
    }

    /** Runs the command and presses Ctrl-C once a printed line contains {@code line}. */
    private Run runInterruptedAfter(String line, String... args) {
        StringWriter out = new StringWriter() {
            private boolean pressed;

            @Override
            public void flush() {
                super.flush();
                if (!pressed && toString().contains(line)) {
                    pressed = true;
                    interrupts.interrupt();
                }
            }
        };
        return execute(out, args, server.name);
    }

    private Run execute(StringWriter out, String[] args, String target) {
        StringWriter err = new StringWriter();
        CommandLine cli = Distillery.commandLine(new Distillery(this::channel, interrupts));
        // Buffered as a terminal's stream is: whatever a command does not flush is lost, as at System.exit.
        cli.setOut(new PrintWriter(new BufferedWriter(out)));
        cli.setErr(new PrintWriter(new BufferedWriter(err)));
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--target=" + target);
        int code = cli.execute(all.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    private ManagedChannel channel(ServerConnection connection) {
        return InProcessChannelBuilder.forName(connection.target()).build();
    }

    private record Run(int exitCode, String out, String err) {
        List<String> outLines() {
            return out.lines().toList();
        }
    }

    /** Ctrl-C on demand. */
    private static final class ManualInterrupts implements Interrupts {
        private volatile Runnable action;

        @Override
        public Registration onInterrupt(Runnable onInterrupt) {
            action = onInterrupt;
            return () -> action = null;
        }

        void interrupt() {
            Runnable now = action;
            if (now != null) {
                now.run();
            }
        }
    }

    private static JobEvent.Builder event(String jobId) {
        return JobEvent.newBuilder().setJobId(jobId);
    }

    private static EpochProgress epoch(int epoch, int epochs, String trial, double etaSeconds) {
        return EpochProgress.newBuilder().setEpoch(epoch).setEpochs(epochs).setTrainLoss(0.5).setValidationAccuracy(0.8)
                .setImagesPerSecond(1000).setEtaSeconds(etaSeconds).setTrial(trial).build();
    }

    private static ModelRef ref(String name, long version) {
        return ModelRef.newBuilder().setName(name).setVersion(version).build();
    }

    private static ModelInfo.Builder card(String name, long version) {
        return ModelInfo.newBuilder().setName(name).setVersion(version).setParameters(9_098)
                .addAllInputShape(List.of(1L, 28L, 28L))
                .addAllLabels(List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                        "Sneaker", "Bag", "Ankle boot"))
                .setCreated(com.google.protobuf.Timestamp.newBuilder().setSeconds(1_796_030_400L))
                .setArchitecture(Architecture.newBuilder().setName("cnn"));
    }

    private static ClassScore score(String label, float probability) {
        return ClassScore.newBuilder().setLabel(label).setProbability(probability).build();
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
