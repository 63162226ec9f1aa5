package dev.distillery.api;

import static dev.distillery.serve.OnnxModels.DOUBLE;
import static dev.distillery.serve.OnnxModels.FLOAT;
import static dev.distillery.serve.OnnxModels.INT64;
import static dev.distillery.serve.OnnxModels.intAttribute;
import static dev.distillery.serve.OnnxModels.intsAttribute;
import static dev.distillery.serve.OnnxModels.tensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import dev.distillery.error.DistilleryException;
import dev.distillery.jobs.InMemoryLauncher;
import dev.distillery.jobs.JobManager;
import dev.distillery.serve.LoadedModel;
import dev.distillery.serve.ModelRepository;
import dev.distillery.serve.ModelSessions;
import dev.distillery.serve.OnnxModelCheck;
import dev.distillery.serve.OnnxModels;
import dev.distillery.serve.OnnxRuntime;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.DeleteModelRequest;
import dev.distillery.v1.DeleteModelResponse;
import dev.distillery.v1.DownloadModelRequest;
import dev.distillery.v1.DownloadModelResponse;
import dev.distillery.v1.Finished;
import dev.distillery.v1.GetModelRequest;
import dev.distillery.v1.JobState;
import dev.distillery.v1.ListModelsRequest;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.ModelsGrpc;
import dev.distillery.v1.Preprocessing;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.UploadHeader;
import dev.distillery.v1.UploadModelRequest;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * UploadModel, DownloadModel and DeleteModel over an in-process gRPC server with the real service
 * classes, a store in a temporary folder and a job queue whose jobs wait until the test lets them end.
 */
class ModelsGrpcServiceTest {

    private static final long LIMIT = 4 << 20;
    private static final int CHUNK = 64 << 10;
    private static final List<String> FASHION = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    @TempDir
    Path temp;

    private Path root;
    private ModelSessions sessions;
    private JobManager jobs;
    private final CountDownLatch releaseJobs = new CountDownLatch(1);
    private Server server;
    private ManagedChannel channel;
    private ModelsGrpc.ModelsBlockingStub models;
    private ModelsGrpc.ModelsStub streaming;

    @BeforeEach
    void start() throws IOException {
        root = temp.resolve("models");
        ModelStore store = new ModelStore(root);
        OnnxRuntime runtime = new OnnxRuntime("cpu", 1);
        sessions = new ModelSessions(store, runtime);
        jobs = InMemoryLauncher.manager(temp.resolve("jobs"), (recipe, context) -> {
            releaseJobs.await();
            return Finished.getDefaultInstance();
        });
        ModelsGrpcService service = new ModelsGrpcService();
        service.store = store;
        service.repository = new ModelRepository(store, sessions, new OnnxModelCheck(runtime, LIMIT), jobs);
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).addService(service).build().start();
        channel = InProcessChannelBuilder.forName(name).build();
        models = ModelsGrpc.newBlockingStub(channel);
        streaming = ModelsGrpc.newStub(channel);
    }

    @AfterEach
    void stop() throws InterruptedException {
        releaseJobs.countDown();
        channel.shutdownNow();
        server.shutdownNow();
        jobs.close();
        sessions.close();
    }

    // ---- helpers

    private static UploadHeader.Builder header(String name, int classes) {
        UploadHeader.Builder header = UploadHeader.newBuilder().setName(name);
        for (int i = 0; i < classes; i++) {
            header.addLabels("class " + i);
        }
        return header;
    }

    private static List<UploadModelRequest> messages(UploadHeader.Builder header, byte[] file) {
        return UploadCalls.messages(header, file, CHUNK);
    }

    private ModelInfo upload(UploadHeader.Builder header, byte[] file) {
        return send(messages(header, file));
    }

    private ModelInfo send(List<UploadModelRequest> messages) {
        return UploadCalls.send(streaming, messages);
    }

    /** Every path under the store, with file sizes: what "nothing was written" compares. */
    private List<String> storeContents() throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.map(p -> root.relativize(p) + (Files.isRegularFile(p) ? " " + p.toFile().length() : ""))
                    .sorted().toList();
        }
    }

    private static void assertStatus(Status.Code code, String mention, Runnable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().getDescription());
        assertTrue(e.getStatus().getDescription().contains(mention),
                "'" + e.getStatus().getDescription() + "' should mention '" + mention + "'");
    }

    private void assertRefused(Status.Code code, String mention, List<UploadModelRequest> messages) throws IOException {
        List<String> before = storeContents();
        assertStatus(code, mention, () -> send(messages));
        assertEquals(before, storeContents(), "a refused upload must leave the store as it was: " + mention);
    }

    private void assertRefused(String mention, UploadHeader.Builder header, byte[] file) throws IOException {
        assertRefused(Status.Code.INVALID_ARGUMENT, mention, messages(header, file));
    }

    private static ModelRef ref(String name, long version) {
        return ModelRef.newBuilder().setName(name).setVersion(version).build();
    }

    private static byte[] resource(String path) throws IOException {
        try (InputStream in = ModelsGrpcServiceTest.class.getResourceAsStream(path)) {
            assertTrue(in != null, "missing test resource " + path);
            return in.readAllBytes();
        }
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(10);
        }
    }

    // ---- upload

    @Test
    void aPyTorchTeacherIsCheckedStoredAndServed() throws Exception {
        byte[] onnx = resource("/fixtures/pytorch_teacher.onnx");
        JsonNode made = new ObjectMapper().readTree(resource("/fixtures/pytorch_teacher.json"));
        UploadHeader.Builder header = UploadHeader.newBuilder().setName("pytorch-teacher").addAllLabels(FASHION)
                .setPreprocessing(Preprocessing.newBuilder()
                        .addMean((float) made.get("mean").asDouble()).addStd((float) made.get("std").asDouble()))
                .putMetrics("test_accuracy", made.get("test_accuracy").asDouble());

        ModelInfo card = upload(header, onnx);

        assertEquals("pytorch-teacher", card.getName());
        assertEquals(1, card.getVersion());
        assertEquals(List.of(1L), card.getVersionsList());
        assertEquals(FASHION, card.getLabelsList());
        assertEquals(List.of(1L, 28L, 28L), card.getInputShapeList(), "from the file's fixed C, H, W");
        assertEquals(Preprocessing.newBuilder().setColor("gray").addMean(0.286f).addStd(0.353f).build(),
                card.getPreprocessing());
        assertEquals(made.get("parameters").asLong(), card.getParameters(), "PyTorch's own parameter count");
        assertEquals(made.get("test_accuracy").asDouble(), card.getMetricsOrThrow("test_accuracy"));
        assertEquals(sha256(onnx), card.getSha256());
        assertFalse(card.hasLineage(), "an uploaded model has no lineage");
        assertFalse(card.hasArchitecture(), "an uploaded model has no catalogue architecture");
        assertEquals(card, models.getModel(GetModelRequest.newBuilder().setModel(ref("pytorch-teacher", 1)).build()));
        assertArrayEquals(onnx, Files.readAllBytes(root.resolve("pytorch-teacher/1/model.onnx")));
        try (Stream<Path> entries = Files.list(root)) {
            assertEquals(List.of("pytorch-teacher"), entries.map(p -> p.getFileName().toString()).toList(),
                    "no staging file is left behind");
        }

        LoadedModel served = sessions.get(ref("pytorch-teacher", 0));
        assertEquals(1, served.info().getVersion());
        float[] scores = served.logits(served.newInputBuffer(3), 3);
        assertEquals(30, scores.length);

        assertEquals(2, upload(header, onnx).getVersion(), "an upload adds a version");
        assertEquals(2, sessions.get(ref("pytorch-teacher", 0)).info().getVersion(), "the newest moved to it");
    }

    @Test
    void symbolicSizesComeFromTheHeaderAndABatchFixedAtOneRunsImageByImage() throws Exception {
        byte[] open = OnnxModels.classifier(1, 2, 2, 3)
                .inputs(tensor("image", FLOAT, "batch", "c", "h", "w")).bytes();
        ModelInfo dynamic = upload(header("open", 3).addInputShape(1).addInputShape(2).addInputShape(2), open);
        assertEquals(List.of(1L, 2L, 2L), dynamic.getInputShapeList());
        assertEquals(3 * (4 + 1), dynamic.getParameters());
        assertEquals(Preprocessing.newBuilder().setColor("gray").addMean(0f).addStd(1f).build(),
                dynamic.getPreprocessing(), "defaults: gray for one channel, mean 0, std 1");

        // The same weights with batch 1 fixed, at an older opset.
        byte[] single = OnnxModels.classifier(1, 2, 2, 3).opset(13)
                .inputs(tensor("image", FLOAT, 1L, 1L, 2L, 2L)).outputs(tensor("scores", FLOAT, 1L, 3L)).bytes();
        upload(header("single", 3), single);
        LoadedModel byBatch = sessions.get(ref("open", 0));
        LoadedModel oneByOne = sessions.get(ref("single", 0));
        FloatBuffer images = byBatch.newInputBuffer(3).put(new float[] {1, 2, 3, 4, -1, 0, 1, 0, 0.5f, 0.5f, -2, 3});
        FloatBuffer same = oneByOne.newInputBuffer(3).put(new float[] {1, 2, 3, 4, -1, 0, 1, 0, 0.5f, 0.5f, -2, 3});
        float[] expected = byBatch.logits(images, 3);
        assertEquals(9, expected.length);
        assertArrayEquals(expected, oneByOne.logits(same, 3), 1e-5f);

        ModelInfo rgb = upload(header("colour", 2).setPreprocessing(Preprocessing.newBuilder()
                .addMean(0.5f).addMean(0.4f).addMean(0.3f).addStd(0.2f).setResize(40).setCenterCrop(true)),
                OnnxModels.classifier(3, 32, 32, 2).bytes());
        assertEquals(Preprocessing.newBuilder().setColor("rgb").setResize(40).setCenterCrop(true)
                .addMean(0.5f).addMean(0.4f).addMean(0.3f).addStd(0.2f).addStd(0.2f).addStd(0.2f).build(),
                rgb.getPreprocessing(), "one std for every channel is spelled out per channel");
    }

    @Test
    void eachBrokenRuleIsRefusedByNameAndNothingIsWritten() throws Exception {
        byte[] good = OnnxModels.classifier(1, 2, 2, 3).bytes();
        upload(header("kept", 3), good);

        assertRefused("not an ONNX model", header("m", 3), "this is not an ONNX file".getBytes());
        assertRefused("empty", header("m", 3), new byte[0]);
        assertRefused("not allowed", header("../evil", 3), good);
        assertRefused("labels is empty", header("m", 0), good);
        assertRefused("2 inputs", header("m", 3), OnnxModels.classifier(1, 2, 2, 3)
                .rename("scores", "linear").node("Add", List.of("linear", "extra"), "scores")
                .inputs(tensor("image", FLOAT, "batch", 1L, 2L, 2L), tensor("extra", FLOAT, "batch", 3L)).bytes());
        assertRefused("INT64", header("m", 3), OnnxModels.classifier(1, 2, 2, 3)
                .rename("image", "cast").prepend("Cast", List.of("image"), "cast", intAttribute("to", FLOAT))
                .inputs(tensor("image", INT64, "batch", 1L, 2L, 2L)).bytes());
        assertRefused("rank 3", header("m", 3), OnnxModels.classifier(1, 2, 2, 3)
                .inputs(tensor("image", FLOAT, "batch", 2L, 2L)).bytes());
        assertRefused("batch dimension at 8", header("m", 3), OnnxModels.classifier(1, 2, 2, 3)
                .inputs(tensor("image", FLOAT, 8L, 1L, 2L, 2L)).outputs(tensor("scores", FLOAT, 8L, 3L)).bytes());
        byte[] open = OnnxModels.classifier(1, 2, 2, 3).inputs(tensor("image", FLOAT, "batch", "c", "h", "w")).bytes();
        assertRefused("header.input_shape", header("m", 3), open);
        assertRefused("disagrees", header("m", 3).addInputShape(1).addInputShape(3).addInputShape(3), good);
        assertRefused("[channels, height, width]", header("m", 3).addInputShape(1).addInputShape(2), good);
        assertRefused("4 channels", header("m", 3), OnnxModels.classifier(4, 2, 2, 3).bytes());
        assertRefused("2 outputs", header("m", 3), OnnxModels.classifier(1, 2, 2, 3)
                .outputs(tensor("scores", FLOAT, "batch", 3L), tensor("flat", FLOAT, "batch", 4L)).bytes());
        assertRefused("DOUBLE", header("m", 3), OnnxModels.classifier(1, 2, 2, 3)
                .rename("scores", "float").node("Cast", List.of("float"), "scores", intAttribute("to", DOUBLE))
                .outputs(tensor("scores", DOUBLE, "batch", 3L)).bytes());
        assertRefused("rank 3", header("m", 3), OnnxModels.classifier(1, 2, 2, 3)
                .rename("scores", "flat2").int64Initializer("axes", 2)
                .node("Unsqueeze", List.of("flat2", "axes"), "scores")
                .outputs(tensor("scores", FLOAT, "batch", 3L, 1L)).bytes());
        assertRefused("3 classes but header.labels lists 10", header("m", 10), good);
        assertRefused("color is 'rgb' but the input has 1 channel", header("m", 3).setPreprocessing(Preprocessing.newBuilder().setColor("rgb")), good);
        assertRefused("color must be 'gray' or 'rgb', got 'sepia'", header("m", 3).setPreprocessing(Preprocessing.newBuilder().setColor("sepia")), good);
        assertRefused("mean has 2 values", header("m", 3).setPreprocessing(Preprocessing.newBuilder()
                .addMean(0.1f).addMean(0.2f)), OnnxModels.classifier(3, 2, 2, 3).bytes());
        assertRefused("std > 0", header("m", 3).setPreprocessing(Preprocessing.newBuilder().addStd(0f)), good);
        assertRefused("center_crop needs", header("m", 3).setPreprocessing(Preprocessing.newBuilder()
                .setCenterCrop(true)), good);
        assertRefused("center_crop needs resize >= the input's larger side", header("m", 3).setPreprocessing(Preprocessing.newBuilder()
                .setCenterCrop(true).setResize(1)), good);
        // Loads, but a fixed Reshape cannot take a batch of 2.
        assertRefused("fails to run", header("m", 3), OnnxModels.classifier(1, 2, 2, 3)
                .rename("image", "reshaped").int64Initializer("one_image", 1, 1, 2, 2)
                .prepend("Reshape", List.of("image", "one_image"), "reshaped").bytes());
        // Averages the batch away (opset 13: ReduceMean's axes are an attribute there).
        assertRefused("returns [1, 3]", header("m", 3), OnnxModels.classifier(1, 2, 2, 3).opset(13)
                .rename("image", "mean").prepend("ReduceMean", List.of("image"), "mean", intsAttribute("axes", 0))
                .bytes());
        assertRefused("NaN", header("m", 4), OnnxModels.classifier(1, 2, 2, 4)
                .rename("scores", "linear").node("Div", List.of("flat", "flat"), "scores")
                .outputs(tensor("scores", FLOAT, "batch", 4L)).bytes());

        UploadModelRequest chunk = UploadModelRequest.newBuilder().setChunk(ByteString.copyFrom(good)).build();
        UploadModelRequest head = UploadModelRequest.newBuilder().setHeader(header("m", 3)).build();
        assertRefused(Status.Code.INVALID_ARGUMENT, "first message must be the header", List.of(chunk, head));
        assertRefused(Status.Code.INVALID_ARGUMENT, "second header", List.of(head, chunk, head));
        assertRefused(Status.Code.INVALID_ARGUMENT, "nothing was uploaded", List.of());
        assertRefused(Status.Code.INVALID_ARGUMENT, "neither", List.of(UploadModelRequest.getDefaultInstance()));

        assertEquals(List.of(1L), models.getModel(GetModelRequest.newBuilder().setModel(ref("kept", 0)).build())
                .getVersionsList());
    }

    @Test
    void anUploadOverTheLimitIsCutOff() throws Exception {
        byte[] huge = new byte[(int) LIMIT + 3 * CHUNK];
        assertRefused(Status.Code.RESOURCE_EXHAUSTED, "distillery.store.max-upload-bytes", messages(header("m", 3), huge));
    }

    @Test
    void aCancelledUploadLeavesNothingBehind() throws Exception {
        StreamObserver<UploadModelRequest> requests = streaming.uploadModel(new StreamObserver<>() {
            @Override
            public void onNext(ModelInfo value) {}

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        });
        messages(header("m", 3), new byte[3 * CHUNK]).forEach(requests::onNext);
        await(() -> stagingFiles() == 1, "the server writes a staging file");
        ((ClientCallStreamObserver<UploadModelRequest>) requests).cancel("the client gave up", null);
        await(() -> stagingFiles() == 0, "the staging file is removed");
        assertTrue(models.listModels(ListModelsRequest.getDefaultInstance()).getModelsList().isEmpty());
    }

    private long stagingFiles() {
        try (Stream<Path> entries = Files.list(root)) {
            return entries.filter(p -> p.getFileName().toString().startsWith(".tmp-")).count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    // ---- download

    @Test
    void aDownloadIsTheCardThenTheExactFile() throws Exception {
        byte[] onnx = OnnxModels.classifier(3, 128, 128, 10).bytes();
        assertTrue(onnx.length > 1 << 20, "large enough for several chunks: " + onnx.length);
        ModelInfo stored = upload(header("big", 10), onnx);

        Iterator<DownloadModelResponse> parts = models.downloadModel(
                DownloadModelRequest.newBuilder().setModel(ref("big", 0)).build());
        DownloadModelResponse first = parts.next();
        assertTrue(first.hasInfo(), "the card comes first");
        assertEquals(stored, first.getInfo());
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        int chunks = 0;
        while (parts.hasNext()) {
            DownloadModelResponse part = parts.next();
            assertTrue(part.getPartCase() == DownloadModelResponse.PartCase.CHUNK, "then only chunks");
            part.getChunk().writeTo(file);
            chunks++;
        }
        assertArrayEquals(onnx, file.toByteArray());
        assertEquals(stored.getSha256(), sha256(file.toByteArray()));
        assertTrue(chunks >= 2, "sent in pieces: " + chunks);

        assertStatus(Status.Code.NOT_FOUND, "version 9", () -> models.downloadModel(
                DownloadModelRequest.newBuilder().setModel(ref("big", 9)).build()).next());
        assertStatus(Status.Code.NOT_FOUND, "ghost", () -> models.downloadModel(
                DownloadModelRequest.newBuilder().setModel(ref("ghost", 0)).build()).next());
    }

    // ---- delete

    private DeleteModelResponse delete(String name, long version) {
        return models.deleteModel(DeleteModelRequest.newBuilder().setModel(ref(name, version)).build());
    }

    @Test
    void deleteOneVersionThenAllOfThem() throws Exception {
        byte[] onnx = OnnxModels.classifier(1, 2, 2, 3).bytes();
        for (int i = 0; i < 3; i++) {
            upload(header("m", 3), onnx);
        }
        LoadedModel third = sessions.get(ref("m", 0));
        assertEquals(3, third.info().getVersion());

        assertEquals(List.of(3L), delete("m", 3).getDeletedVersionsList());
        assertEquals(List.of(1L, 2L), models.getModel(GetModelRequest.newBuilder().setModel(ref("m", 0)).build())
                .getVersionsList());
        assertEquals(2, sessions.get(ref("m", 0)).info().getVersion(), "the newest is the store's newest again");
        DistilleryException closed = assertThrows(DistilleryException.class, () -> third.logits(third.newInputBuffer(1), 1));
        assertEquals(DistilleryException.Kind.NOT_FOUND, closed.kind(), "a deleted version's session is closed");
        assertFalse(Files.exists(root.resolve("m/3")));

        assertEquals(4, upload(header("m", 3), onnx).getVersion(), "a deleted version number is not given out again");
        assertEquals(4, sessions.get(ref("m", 0)).info().getVersion());

        DeleteModelResponse all = delete("m", 0);
        assertEquals("m", all.getName());
        assertEquals(List.of(1L, 2L, 4L), all.getDeletedVersionsList());
        assertStatus(Status.Code.NOT_FOUND, "no model named 'm'", () -> models.getModel(
                GetModelRequest.newBuilder().setModel(ref("m", 0)).build()));
        assertEquals(DistilleryException.Kind.NOT_FOUND,
                assertThrows(DistilleryException.class, () -> sessions.get(ref("m", 0))).kind());
        assertTrue(models.listModels(ListModelsRequest.getDefaultInstance()).getModelsList().isEmpty());
        assertEquals(5, upload(header("m", 3), onnx).getVersion(), "not even after deleting every version");
    }

    @Test
    void deletingUnknownModelsOrVersionsIsNotFound() {
        upload(header("m", 3), OnnxModels.classifier(1, 2, 2, 3).bytes());
        assertStatus(Status.Code.NOT_FOUND, "ghost", () -> delete("ghost", 0));
        assertStatus(Status.Code.NOT_FOUND, "version 7", () -> delete("m", 7));
        assertStatus(Status.Code.INVALID_ARGUMENT, "not allowed", () -> delete("../m", 0));
        assertStatus(Status.Code.INVALID_ARGUMENT, ">= 0", () -> delete("m", -1));
        assertEquals(List.of(1L), models.getModel(GetModelRequest.newBuilder().setModel(ref("m", 1)).build())
                .getVersionsList());
    }

    @Test
    void aModelIsNotDeletedWhileAJobUsesIt() throws Exception {
        byte[] onnx = OnnxModels.classifier(1, 2, 2, 3).bytes();
        upload(header("teacher", 3), onnx);
        upload(header("student", 3), onnx);
        upload(header("bystander", 3), onnx);
        // The first job runs (and waits for the test); the second waits in the queue behind it.
        String running = jobs.submit(Recipe.newBuilder().setOutputModel("other").setTeacher(ref("teacher", 1)).build());
        String queued = jobs.submit(Recipe.newBuilder().setOutputModel("student").build());

        assertStatus(Status.Code.FAILED_PRECONDITION, running, () -> delete("teacher", 0));
        assertStatus(Status.Code.FAILED_PRECONDITION, queued, () -> delete("student", 1));
        assertEquals(List.of(1L), delete("bystander", 0).getDeletedVersionsList(), "other models can go");
        assertTrue(Files.exists(root.resolve("teacher/1/model.onnx")));

        releaseJobs.countDown();
        await(() -> jobs.get(queued).getState() == JobState.JOB_STATE_SUCCEEDED, "both jobs end");
        assertEquals(List.of(1L), delete("teacher", 0).getDeletedVersionsList());
        assertEquals(List.of(1L), delete("student", 0).getDeletedVersionsList());
    }
}
