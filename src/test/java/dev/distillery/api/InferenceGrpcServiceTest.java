package dev.distillery.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.distillery.inference.GRPCInferenceServiceGrpc;
import dev.distillery.inference.InferParameter;
import dev.distillery.inference.InferTensorContents;
import dev.distillery.inference.ModelInferRequest;
import dev.distillery.inference.ModelInferRequest.InferInputTensor;
import dev.distillery.inference.ModelInferRequest.InferRequestedOutputTensor;
import dev.distillery.inference.ModelInferResponse;
import dev.distillery.inference.ModelMetadataRequest;
import dev.distillery.inference.ModelMetadataResponse;
import dev.distillery.inference.ModelMetadataResponse.TensorMetadata;
import dev.distillery.inference.ModelReadyRequest;
import dev.distillery.inference.ModelRepositoryParameter;
import dev.distillery.inference.RepositoryIndexRequest;
import dev.distillery.inference.RepositoryIndexResponse;
import dev.distillery.inference.RepositoryIndexResponse.ModelIndex;
import dev.distillery.inference.RepositoryModelLoadRequest;
import dev.distillery.inference.RepositoryModelUnloadRequest;
import dev.distillery.inference.ServerLiveRequest;
import dev.distillery.inference.ServerMetadataRequest;
import dev.distillery.inference.ServerMetadataResponse;
import dev.distillery.inference.ServerReadyRequest;
import dev.distillery.serve.ModelSessions;
import dev.distillery.serve.VersionPolicies;
import dev.distillery.serve.OnnxRuntime;
import dev.distillery.serve.Predictor;
import dev.distillery.serve.Softmax;
import dev.distillery.serve.TinyClassifiers;
import dev.distillery.serve.oip.InferenceProtocol;
import dev.distillery.store.ModelStore;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Open Inference Protocol adapter over an in-process gRPC server, with the real serving classes and a
 * store in a temporary folder holding {@link TinyClassifiers}: model "tiny" version 1 (logits W x) and
 * version 2 (2 W x), so every answer can be checked by hand and tells which version computed it.
 */
class InferenceGrpcServiceTest {

    private static final int MAX_BATCH = 8;
    private static final float[] FIRST = {0.5f, -1f, 2f, 0.25f};
    private static final float[] SECOND = {1f, 0f, -0.5f, 3f};

    @TempDir
    Path temp;

    private final ExecutorService workers = Executors.newCachedThreadPool();

    private ModelSessions sessions;
    private Server server;
    private ManagedChannel channel;
    private GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub inference;

    @BeforeEach
    void start() throws IOException {
        ModelStore store = new ModelStore(temp.resolve("models"));
        // Every version served, both versions of "tiny" loaded, as the server's first check of the store does.
        sessions = new ModelSessions(store, new OnnxRuntime("cpu", 1), VersionPolicies.parse(Optional.of("all"), Map.of()));
        TinyClassifiers.add(store, "tiny", 1);
        TinyClassifiers.add(store, "tiny", 2);
        TinyClassifiers.add(store, "other", 1);
        sessions.refresh();
        InferenceGrpcService service = new InferenceGrpcService();
        service.placement = new CallPlacement(TimeUnit.MILLISECONDS.toNanos(50), workers, model -> true);
        service.protocol = new InferenceProtocol(store, sessions, new Predictor(sessions, MAX_BATCH, 1 << 24), "1.2.3-test");
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).addService(service).build().start();
        channel = InProcessChannelBuilder.forName(name).build();
        inference = GRPCInferenceServiceGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void stop() {
        workers.shutdownNow();
        channel.shutdownNow();
        server.shutdownNow();
        sessions.close();
    }

    // ---- helpers

    private static InferInputTensor.Builder fp32(long... shape) {
        InferInputTensor.Builder input = InferInputTensor.newBuilder().setName("input").setDatatype("FP32");
        for (long dim : shape) {
            input.addShape(dim);
        }
        return input;
    }

    private static InferInputTensor.Builder fp32Contents(float[]... images) {
        InferTensorContents.Builder contents = InferTensorContents.newBuilder();
        for (float[] image : images) {
            for (float value : image) {
                contents.addFp32Contents(value);
            }
        }
        return fp32(images.length, 1, 2, 2).setContents(contents);
    }

    private static ByteString littleEndian(float[]... images) {
        ByteBuffer bytes = ByteBuffer.allocate(images.length * TinyClassifiers.PIXELS * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] image : images) {
            for (float value : image) {
                bytes.putFloat(value);
            }
        }
        return ByteString.copyFrom(bytes.array());
    }

    /** BYTES elements as raw contents: each a 4-byte little-endian length, then the bytes. */
    private static ByteString lengthPrefixed(byte[]... elements) {
        ByteString out = ByteString.EMPTY;
        for (byte[] element : elements) {
            ByteBuffer length = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(element.length);
            out = out.concat(ByteString.copyFrom(length.array())).concat(ByteString.copyFrom(element));
        }
        return out;
    }

    private static ModelInferRequest.Builder request(String model, String version) {
        return ModelInferRequest.newBuilder().setModelName(model).setModelVersion(version);
    }

    private static InferRequestedOutputTensor output(String name, long classification) {
        return InferRequestedOutputTensor.newBuilder().setName(name)
                .putParameters("classification", InferParameter.newBuilder().setInt64Param(classification).build())
                .build();
    }

    private static float[] floats(ByteString raw) {
        float[] values = new float[raw.size() / 4];
        raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        return values;
    }

    private static List<String> strings(ByteString raw) {
        ByteBuffer bytes = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        List<String> out = new ArrayList<>();
        while (bytes.hasRemaining()) {
            byte[] element = new byte[bytes.getInt()];
            bytes.get(element);
            out.add(new String(element, StandardCharsets.UTF_8));
        }
        return out;
    }

    private static float[] concat(float[]... rows) {
        float[] out = new float[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, out, i * rows[i].length, rows[i].length);
        }
        return out;
    }

    private static float[] softmax(float[] logits) {
        return Softmax.of(logits, 0, logits.length);
    }

    private static void assertStatus(Status.Code code, String mention, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().getDescription());
        assertTrue(e.getStatus().getDescription().contains(mention),
                "'" + e.getStatus().getDescription() + "' should mention '" + mention + "'");
    }

    private void assertInvalid(String mention, ModelInferRequest.Builder request) {
        assertStatus(Status.Code.INVALID_ARGUMENT, mention, () -> inference.modelInfer(request.build()));
    }

    // ---- health and metadata

    @Test
    void theServerIsLiveAndReadyAndNamesItsExtensions() {
        assertTrue(inference.serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
        assertTrue(inference.serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
        ServerMetadataResponse metadata = inference.serverMetadata(ServerMetadataRequest.getDefaultInstance());
        assertEquals("distillery", metadata.getName());
        assertEquals("1.2.3-test", metadata.getVersion());
        assertEquals(List.of("classification", "model_repository"), metadata.getExtensionsList());
    }

    @Test
    void modelMetadataNamesTheTensorsWithAVariableBatch() {
        ModelMetadataResponse metadata = inference.modelMetadata(ModelMetadataRequest.newBuilder().setName("tiny").build());
        assertEquals("tiny", metadata.getName());
        assertEquals(List.of("1", "2"), metadata.getVersionsList());
        assertEquals("onnxruntime_onnx", metadata.getPlatform());
        assertEquals(List.of(
                TensorMetadata.newBuilder().setName("input").setDatatype("FP32").addAllShape(List.of(-1L, 1L, 2L, 2L)).build(),
                TensorMetadata.newBuilder().setName("image").setDatatype("BYTES").addShape(-1).build()),
                metadata.getInputsList());
        assertEquals(List.of(
                TensorMetadata.newBuilder().setName("logits").setDatatype("FP32").addAllShape(List.of(-1L, 3L)).build(),
                TensorMetadata.newBuilder().setName("probabilities").setDatatype("FP32").addAllShape(List.of(-1L, 3L)).build()),
                metadata.getOutputsList());
        assertEquals(metadata, inference.modelMetadata(ModelMetadataRequest.newBuilder().setName("tiny").setVersion("1").build()));

        assertStatus(Status.Code.NOT_FOUND, "ghost",
                () -> inference.modelMetadata(ModelMetadataRequest.newBuilder().setName("ghost").build()));
        assertStatus(Status.Code.NOT_FOUND, "9",
                () -> inference.modelMetadata(ModelMetadataRequest.newBuilder().setName("tiny").setVersion("9").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "model version 'latest' is not a version number",
                () -> inference.modelMetadata(ModelMetadataRequest.newBuilder().setName("tiny").setVersion("latest").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "model version '0'",
                () -> inference.modelMetadata(ModelMetadataRequest.newBuilder().setName("tiny").setVersion("0").build()));
    }

    @Test
    void modelReadyFollowsLoadAndUnloadAndUnknownModelsAreNotFound() {
        ModelReadyRequest tiny = ModelReadyRequest.newBuilder().setName("tiny").build();
        assertTrue(inference.modelReady(tiny).getReady());
        assertTrue(inference.modelReady(tiny.toBuilder().setVersion("1").build()).getReady());
        assertStatus(Status.Code.NOT_FOUND, "ghost", () -> inference.modelReady(
                ModelReadyRequest.newBuilder().setName("ghost").build()));
        assertStatus(Status.Code.NOT_FOUND, "3", () -> inference.modelReady(tiny.toBuilder().setVersion("3").build()));

        inference.repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("tiny").build());
        assertFalse(inference.modelReady(tiny).getReady());
        assertTrue(inference.modelReady(ModelReadyRequest.newBuilder().setName("other").build()).getReady(),
                "only the unloaded model is affected");
        inference.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("tiny").build());
        assertTrue(inference.modelReady(tiny).getReady());
    }

    // ---- inference

    @Test
    void fp32ContentsGiveLogitsAndProbabilitiesOfTheNewestVersion() {
        ModelInferResponse response = inference.modelInfer(request("tiny", "").setId("request-7")
                .addInputs(fp32Contents(FIRST, SECOND)).build());

        assertEquals("tiny", response.getModelName());
        assertEquals("2", response.getModelVersion(), "'' is the newest version");
        assertEquals("request-7", response.getId());
        assertEquals(2, response.getOutputsCount(), "every output when none is requested");
        assertEquals("logits", response.getOutputs(0).getName());
        assertEquals("FP32", response.getOutputs(0).getDatatype());
        assertEquals(List.of(2L, 3L), response.getOutputs(0).getShapeList());
        assertEquals("probabilities", response.getOutputs(1).getName());
        assertEquals(List.of(2L, 3L), response.getOutputs(1).getShapeList());
        assertFalse(response.getOutputs(0).hasContents(), "values travel as raw contents, as Triton sends them");
        float[] first = TinyClassifiers.logits(FIRST, 2);
        float[] second = TinyClassifiers.logits(SECOND, 2);
        assertArrayEquals(concat(first, second), floats(response.getRawOutputContents(0)), 1e-5f);
        assertArrayEquals(concat(softmax(first), softmax(second)), floats(response.getRawOutputContents(1)), 1e-6f);

        ModelInferResponse v1 = inference.modelInfer(request("tiny", "1").addInputs(fp32Contents(FIRST))
                .addOutputs(InferRequestedOutputTensor.newBuilder().setName("logits")).build());
        assertEquals("1", v1.getModelVersion());
        assertEquals(1, v1.getOutputsCount());
        assertArrayEquals(TinyClassifiers.logits(FIRST, 1), floats(v1.getRawOutputContents(0)), 1e-5f);
    }

    @Test
    void rawFp32ContentsAreLittleEndianAndGiveTheSameAnswer() {
        ModelInferResponse contents = inference.modelInfer(request("tiny", "").addInputs(fp32Contents(FIRST, SECOND)).build());
        ModelInferResponse raw = inference.modelInfer(request("tiny", "").addInputs(fp32(2, 1, 2, 2))
                .addRawInputContents(littleEndian(FIRST, SECOND)).build());
        assertEquals(contents, raw);
    }

    @Test
    void encodedImagesArePreprocessedAsModelJsonSays() {
        int[] pixels = {0, 51, 255, 102};
        float[] scaled = {0f, 0.2f, 1f, 0.4f};
        byte[] png = TinyClassifiers.png(pixels);
        ModelInferResponse contents = inference.modelInfer(request("tiny", "1").addInputs(InferInputTensor.newBuilder()
                .setName("image").setDatatype("BYTES").addShape(2)
                .setContents(InferTensorContents.newBuilder().addBytesContents(ByteString.copyFrom(png))
                        .addBytesContents(ByteString.copyFrom(TinyClassifiers.png(255, 255, 255, 255))))).build());
        float[] expected = concat(TinyClassifiers.logits(scaled, 1), TinyClassifiers.logits(new float[] {1, 1, 1, 1}, 1));
        assertArrayEquals(expected, floats(contents.getRawOutputContents(0)), 1e-5f);

        // Triton's clients send BYTES as raw contents, often with shape [batch, 1].
        ModelInferResponse raw = inference.modelInfer(request("tiny", "1").addInputs(InferInputTensor.newBuilder()
                .setName("image").setDatatype("BYTES").addShape(1).addShape(1))
                .addRawInputContents(lengthPrefixed(png)).build());
        assertArrayEquals(TinyClassifiers.logits(scaled, 1), floats(raw.getRawOutputContents(0)), 1e-5f);
    }

    @Test
    void classificationReturnsTheTopClassesOfTheRequestedOutput() {
        ModelInferResponse response = inference.modelInfer(request("tiny", "2").addInputs(fp32Contents(FIRST, SECOND))
                .addOutputs(output("probabilities", 2)).addOutputs(output("logits", 10)).build());

        assertEquals("probabilities", response.getOutputs(0).getName());
        assertEquals("BYTES", response.getOutputs(0).getDatatype());
        assertEquals(List.of(2L, 2L), response.getOutputs(0).getShapeList());
        assertEquals(List.of(2L, 3L), response.getOutputs(1).getShapeList(), "k is capped at the class count");
        List<String> probabilities = strings(response.getRawOutputContents(0));
        List<String> logits = strings(response.getRawOutputContents(1));
        for (int row = 0; row < 2; row++) {
            float[] expectedLogits = TinyClassifiers.logits(row == 0 ? FIRST : SECOND, 2);
            float[] expectedProbabilities = softmax(expectedLogits);
            Integer[] order = {0, 1, 2};
            Arrays.sort(order, (a, b) -> Float.compare(expectedLogits[b], expectedLogits[a]));
            for (int k = 0; k < 3; k++) {
                if (k < 2) {
                    assertClass(expectedProbabilities, order[k], probabilities.get(row * 2 + k));
                }
                assertClass(expectedLogits, order[k], logits.get(row * 3 + k));
            }
        }
    }

    /** One element of the classification extension: "value:index:label", value printed with six decimals. */
    private static void assertClass(float[] values, int index, String element) {
        String[] parts = element.split(":", 3);
        assertEquals(3, parts.length, element);
        assertTrue(parts[0].matches("-?\\d+\\.\\d{6}"), "six decimals as C's %f: " + element);
        assertEquals(values[index], Float.parseFloat(parts[0]), 1e-5f, element);
        assertEquals(Integer.toString(index), parts[1], element);
        assertEquals(TinyClassifiers.LABELS.get(index), parts[2], element);
    }

    @Test
    void everyBadRequestGetsAClearStatus() {
        assertStatus(Status.Code.NOT_FOUND, "ghost",
                () -> inference.modelInfer(request("ghost", "").addInputs(fp32Contents(FIRST)).build()));
        assertStatus(Status.Code.NOT_FOUND, "7",
                () -> inference.modelInfer(request("tiny", "7").addInputs(fp32Contents(FIRST)).build()));
        assertInvalid("model version 'v2'", request("tiny", "v2").addInputs(fp32Contents(FIRST)));

        assertInvalid("exactly one input tensor, got 0", request("tiny", ""));
        assertInvalid("exactly one input tensor, got 2", request("tiny", "").addInputs(fp32Contents(FIRST))
                .addInputs(fp32Contents(SECOND)));
        assertInvalid("unexpected input 'INPUT__0' for model 'tiny'",
                request("tiny", "").addInputs(fp32Contents(FIRST).setName("INPUT__0")));
        assertInvalid("input 'input' has datatype 'FP64'; it takes FP32",
                request("tiny", "").addInputs(fp32Contents(FIRST).setDatatype("FP64")));
        assertInvalid("input 'image' has datatype 'FP32'; it takes BYTES",
                request("tiny", "").addInputs(fp32Contents(FIRST).setName("image")));
        assertInvalid("must have shape [batch, channels, height, width]", request("tiny", "").addInputs(
                fp32(1, 4).setContents(InferTensorContents.newBuilder().addAllFp32Contents(List.of(1f, 2f, 3f, 4f)))));
        assertInvalid("negative dimension", request("tiny", "").addInputs(fp32(-1, 1, 2, 2)));
        assertInvalid("more elements than one request can carry",
                request("tiny", "").addInputs(fp32(1 << 20, 1 << 20, 1 << 20, 2)));
        assertInvalid("tensor shape [1, 3, 3] does not match the model's input shape [1, 2, 2]", request("tiny", "")
                .addInputs(fp32(1, 1, 3, 3).setContents(InferTensorContents.newBuilder()
                        .addAllFp32Contents(List.of(1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f)))));
        assertInvalid("needs 8 values in contents.fp32_contents, got 4",
                request("tiny", "").addInputs(fp32(2, 1, 2, 2).setContents(fp32Contents(FIRST).getContents())));
        assertInvalid("needs 4 values in contents.fp32_contents, got 0", request("tiny", "").addInputs(fp32(1, 1, 2, 2)
                .setContents(InferTensorContents.newBuilder().addAllIntContents(List.of(1, 2, 3, 4)))));
        assertInvalid("holds 12 bytes; its shape needs 4 FP32 values, 16 bytes", request("tiny", "")
                .addInputs(fp32(1, 1, 2, 2)).addRawInputContents(littleEndian(FIRST).substring(4)));
        assertInvalid("sets contents and the request sets raw_input_contents",
                request("tiny", "").addInputs(fp32Contents(FIRST)).addRawInputContents(littleEndian(FIRST)));
        assertInvalid("raw_input_contents has 2 entries for 1 input", request("tiny", "").addInputs(fp32(1, 1, 2, 2))
                .addRawInputContents(littleEndian(FIRST)).addRawInputContents(littleEndian(FIRST)));
        assertInvalid("no inputs: send at least one image or tensor", request("tiny", "")
                .addInputs(fp32(0, 1, 2, 2).setContents(InferTensorContents.getDefaultInstance())));

        InferInputTensor.Builder image = InferInputTensor.newBuilder().setName("image").setDatatype("BYTES");
        assertInvalid("must have shape [batch] or [batch, 1]", request("tiny", "").addInputs(image.clone().addShape(1).addShape(2)));
        assertInvalid("needs 2 images, got 1 in contents.bytes_contents", request("tiny", "").addInputs(image.clone()
                .addShape(2).setContents(InferTensorContents.newBuilder().addBytesContents(ByteString.copyFromUtf8("x")))));
        assertInvalid("ends inside the 4-byte length of element 1", request("tiny", "")
                .addInputs(image.clone().addShape(2))
                .addRawInputContents(lengthPrefixed(TinyClassifiers.png(1, 2, 3, 4)).concat(ByteString.copyFrom(new byte[2]))));
        assertInvalid("element 0 says 100 bytes but 3 are left", request("tiny", "").addInputs(image.clone().addShape(1))
                .addRawInputContents(ByteString.copyFrom(ByteBuffer.allocate(7).order(ByteOrder.LITTLE_ENDIAN).putInt(100).array())));
        assertInvalid("input 0", request("tiny", "").addInputs(image.clone().addShape(1)
                .setContents(InferTensorContents.newBuilder().addBytesContents(ByteString.copyFromUtf8("not an image")))));

        assertInvalid("unexpected output 'scores' for model 'tiny': the outputs are 'logits' and 'probabilities'",
                request("tiny", "").addInputs(fp32Contents(FIRST)).addOutputs(InferRequestedOutputTensor.newBuilder().setName("scores")));
        assertInvalid("output 'logits' is requested twice", request("tiny", "").addInputs(fp32Contents(FIRST))
                .addOutputs(output("logits", 1)).addOutputs(output("logits", 2)));
        assertInvalid("'classification' must be an int64_param >= 1", request("tiny", "").addInputs(fp32Contents(FIRST))
                .addOutputs(output("logits", 0)));
        assertInvalid("got string_param: \"3\"", request("tiny", "")
                .addInputs(fp32Contents(FIRST)).addOutputs(InferRequestedOutputTensor.newBuilder().setName("logits")
                        .putParameters("classification", InferParameter.newBuilder().setStringParam("3").build())));
        assertInvalid("parameter 'shared_memory_region' is not supported", request("tiny", "").addInputs(fp32Contents(FIRST))
                .addOutputs(InferRequestedOutputTensor.newBuilder().setName("logits").putParameters("shared_memory_region",
                        InferParameter.newBuilder().setStringParam("region").build())));

        float[][] tooMany = new float[MAX_BATCH + 1][];
        Arrays.fill(tooMany, FIRST);
        assertStatus(Status.Code.RESOURCE_EXHAUSTED, "the limit is 8", () -> inference.modelInfer(
                request("tiny", "").addInputs(fp32Contents(tooMany)).build()));

        inference.repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("tiny").build());
        assertStatus(Status.Code.FAILED_PRECONDITION, "unloaded",
                () -> inference.modelInfer(request("tiny", "").addInputs(fp32Contents(FIRST)).build()));
    }

    // ---- model repository

    @Test
    void theRepositoryIndexFollowsUnloadAndLoad() {
        RepositoryIndexRequest all = RepositoryIndexRequest.getDefaultInstance();
        RepositoryIndexRequest ready = RepositoryIndexRequest.newBuilder().setReady(true).build();
        ModelIndex other = ModelIndex.newBuilder().setName("other").setVersion("1").setState("READY").build();
        ModelIndex tiny1 = ModelIndex.newBuilder().setName("tiny").setVersion("1").setState("READY").build();
        ModelIndex tiny = ModelIndex.newBuilder().setName("tiny").setVersion("2").setState("READY").build();
        assertEquals(RepositoryIndexResponse.newBuilder().addModels(other).addModels(tiny1).addModels(tiny).build(),
                inference.repositoryIndex(all));

        // Triton's clients send unload_dependents with every unload.
        inference.repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("tiny")
                .putParameters("unload_dependents", ModelRepositoryParameter.newBuilder().setBoolParam(false).build()).build());
        String unloadedReason = "unloaded: load the model (RepositoryModelLoad) to serve it again";
        assertEquals(List.of(other, tiny1.toBuilder().setState("UNAVAILABLE").setReason(unloadedReason).build(),
                tiny.toBuilder().setState("UNAVAILABLE").setReason(unloadedReason).build()),
                inference.repositoryIndex(all).getModelsList());
        assertEquals(List.of(other), inference.repositoryIndex(ready).getModelsList());

        inference.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("tiny").build());
        assertEquals(List.of(other, tiny1, tiny), inference.repositoryIndex(ready).getModelsList());
        assertEquals("2", inference.modelInfer(request("tiny", "").addInputs(fp32Contents(FIRST)).build()).getModelVersion());

        assertStatus(Status.Code.NOT_FOUND, "ghost", () -> inference.repositoryModelLoad(
                RepositoryModelLoadRequest.newBuilder().setModelName("ghost").build()));
        assertStatus(Status.Code.NOT_FOUND, "ghost", () -> inference.repositoryModelUnload(
                RepositoryModelUnloadRequest.newBuilder().setModelName("ghost").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "parameter 'config' is not supported (it takes none)",
                () -> inference.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("tiny")
                        .putParameters("config", ModelRepositoryParameter.newBuilder().setStringParam("{}").build()).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "parameter 'file:1/model.onnx' is not supported (it takes only unload_dependents)",
                () -> inference.repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("tiny")
                        .putParameters("file:1/model.onnx", ModelRepositoryParameter.newBuilder()
                                .setBytesParam(ByteString.copyFromUtf8("x")).build()).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "leave repository_name empty", () -> inference.repositoryIndex(
                RepositoryIndexRequest.newBuilder().setRepositoryName("elsewhere").build()));
        assertTrue(inference.modelReady(ModelReadyRequest.newBuilder().setName("tiny").build()).getReady(),
                "refused requests change nothing");
    }
}
