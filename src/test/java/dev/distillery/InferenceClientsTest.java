package dev.distillery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distillery.inference.GRPCInferenceServiceGrpc;
import dev.distillery.inference.InferTensorContents;
import dev.distillery.inference.ModelInferRequest;
import dev.distillery.inference.ModelInferRequest.InferInputTensor;
import dev.distillery.inference.ModelInferRequest.InferRequestedOutputTensor;
import dev.distillery.serve.TinyClassifiers;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.ModelRef;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients in other languages against this test's server, each with a model of {@link TinyClassifiers} in the
 * store (versions W x and 2 W x) described in a fixture file:
 * <ul>
 *   <li>src/test/python/inference_test.py: the Open Inference Protocol through Python stubs generated from
 *       proto/inference/grpc_predict_v2.proto (Debian's python3-grpcio and python3-grpc-tools);
 *   <li>src/test/node/inference_test.js: Predict and ModelInfer through @grpc/grpc-js, including status
 *       messages full of punctuation. Its packages are installed in src/test/node by {@code ./distillery test};
 *   <li>grpc-java over the network, for the same status messages.
 * </ul>
 */
@QuarkusTest
class InferenceClientsTest {

    private static final Path NODE_PROJECT = Path.of("src/test/node");

    @Inject
    ModelStore store;

    @TempDir
    Path scratch;

    @Test
    void pythonStubsGeneratedFromTheProtoDriveTheProtocol() throws Exception {
        String python = System.getProperty("distillery.python",
                Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3");
        String printed = run(List.of(python, "src/test/python/inference_test.py"), fixture("oip-python"),
                "it needs the Debian packages python3-grpcio and python3-grpc-tools: "
                        + "apt-get install -y python3-grpcio python3-grpc-tools");
        assertTrue(printed.contains("Ran 7 tests"), "all seven Python tests ran");
    }

    @Test
    void aNodeGrpcJsClientCallsPredictAndModelInfer() throws Exception {
        assertTrue(Files.isDirectory(NODE_PROJECT.resolve("node_modules/@grpc/grpc-js")),
                "the Node test's packages are missing: ./distillery test installs them (or: cd src/test/node && npm ci)");
        String printed = run(List.of("node", "--test", "src/test/node/inference_test.js"), fixture("oip-node"),
                "it needs Node.js 18 or newer and the packages of src/test/node/package.json (cd src/test/node && npm ci)");
        assertTrue(printed.contains("# pass 5") && printed.contains("# fail 0"), "all five Node tests passed");
    }

    @Test
    void aGrpcJavaClientReadsStatusMessagesAsWritten() throws Exception {
        String name = "oip-java";
        fixture(name);
        String odd = "odd: /?#[]@!$&'()*+,;= 100% %3A caf\u00e9";
        ManagedChannel channel = ManagedChannelBuilder.forAddress("localhost", TestPorts.grpc()).usePlaintext().build();
        try {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> GRPCInferenceServiceGrpc
                    .newBlockingStub(channel).modelInfer(ModelInferRequest.newBuilder().setModelName(name)
                            .addInputs(InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
                                    .addAllShape(List.of(1L, 1L, 2L, 2L)).setContents(InferTensorContents.newBuilder()
                                            .addAllFp32Contents(List.of(0f, 0f, 0f, 0f))))
                            .addOutputs(InferRequestedOutputTensor.newBuilder().setName(odd)).build()));
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
            assertEquals("unexpected output '" + odd + "' for model '" + name
                    + "': the outputs are 'logits' and 'probabilities'", e.getStatus().getDescription());
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    /** Stores versions 1x and 2x of the tiny classifier as {@code name} (replacing earlier runs') and describes them. */
    private Path fixture(String name) throws IOException {
        if (store.list().stream().anyMatch(info -> info.getName().equals(name))) {
            store.delete(ModelRef.newBuilder().setName(name).build());
        }
        long older = TinyClassifiers.add(store, name, 1).getVersion();
        long newest = TinyClassifiers.add(store, name, 2).getVersion();
        Map<String, Object> fixture = new LinkedHashMap<>();
        fixture.put("model", name);
        fixture.put("versions", List.of(older, newest));
        fixture.put("labels", TinyClassifiers.LABELS);
        fixture.put("weights", TinyClassifiers.weights());
        fixture.put("image_png_base64", Base64.getEncoder().encodeToString(TinyClassifiers.png(0, 51, 255, 102)));
        fixture.put("image_values", List.of(0.0, 0.2, 1.0, 0.4));
        Path file = scratch.resolve(name + ".json");
        new ObjectMapper().writeValue(file.toFile(), fixture);
        return file;
    }

    /** Runs a client against this server and returns what it printed; fails with {@code hint} if it fails. */
    private String run(List<String> command, Path fixture, String hint) throws IOException, InterruptedException {
        Path output = scratch.resolve("client.log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        builder.environment().put("DISTILLERY_TARGET", TestPorts.grpcTarget());
        builder.environment().put("DISTILLERY_OIP_FIXTURE", fixture.toString());
        Process process = builder.start();
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
            process.destroyForcibly().waitFor();
        }
        String printed = Files.readString(output);
        System.out.println(printed);
        assertEquals(0, process.exitValue(), command.get(command.size() - 1) + " failed (output above); " + hint);
        return printed;
    }
}
