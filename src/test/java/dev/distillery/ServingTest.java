package dev.distillery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.serve.ModelSessions;
import dev.distillery.serve.OnnxModels;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.Input;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.PredictRequest;
import dev.distillery.v1.PredictResponse;
import dev.distillery.v1.PredictionGrpc;
import dev.distillery.v1.Preprocessing;
import dev.distillery.v1.Tensor;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The serving configuration and metrics as the server wires them: "serving-test" gets the default
 * batching, "serving-test-plain" turns it off in the %test profile; both answer Predict and
 * PredictStream over the real server, and /q/metrics shows their series.
 */
@QuarkusTest
class ServingTest {

    private static final List<String> MODELS = List.of("serving-test", "serving-test-plain");

    @TestHTTPResource("/")
    URL server;

    @Inject
    ModelStore store;

    @Inject
    ModelSessions sessions;

    private ManagedChannel channel;

    @BeforeEach
    void start() {
        MODELS.forEach(this::remove);
        ModelInfo card = ModelInfo.newBuilder().addLabels("a").addLabels("b").addLabels("c")
                .addInputShape(1).addInputShape(2).addInputShape(2)
                .setPreprocessing(Preprocessing.newBuilder().setColor("gray").addMean(0).addStd(1)).build();
        MODELS.forEach(name -> store.add(name, OnnxModels.classifier(1, 2, 2, 3).bytes(), card));
        channel = ManagedChannelBuilder.forAddress("localhost", TestPorts.grpc()).usePlaintext().build();
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        MODELS.forEach(this::remove);
    }

    /** Versions of earlier runs: their folders and their sessions (and so their series). */
    private void remove(String name) {
        if (store.list().stream().anyMatch(info -> info.getName().equals(name))) {
            sessions.forget(name, store.delete(ModelRef.newBuilder().setName(name).build()));
        }
    }

    private static PredictRequest request(String model, float second) {
        return PredictRequest.newBuilder().setModel(ModelRef.newBuilder().setName(model))
                .addInputs(Input.newBuilder().setTensor(Tensor.newBuilder().addShape(1).addShape(2).addShape(2)
                        .addValues(1).addValues(second).addValues(3).addValues(4)))
                .build();
    }

    @Test
    void predictAndAStreamAreServedAndCountedPerModelVersion() throws Exception {
        PredictionGrpc.PredictionBlockingStub blocking = PredictionGrpc.newBlockingStub(channel);
        ModelRef batched = blocking.predict(request("serving-test", 2)).getModel();
        ModelRef plain = blocking.predict(request("serving-test-plain", 2)).getModel();

        List<PredictResponse> answers = new CopyOnWriteArrayList<>();
        CountDownLatch ended = new CountDownLatch(1);
        StreamObserver<PredictRequest> stream = PredictionGrpc.newStub(channel).predictStream(new StreamObserver<>() {
            @Override
            public void onNext(PredictResponse response) {
                answers.add(response);
            }

            @Override
            public void onError(Throwable t) {
                ended.countDown();
            }

            @Override
            public void onCompleted() {
                ended.countDown();
            }
        });
        stream.onNext(request("serving-test", 5));
        stream.onNext(request("serving-test", Float.POSITIVE_INFINITY));
        stream.onNext(request("serving-test", 6));
        stream.onCompleted();
        assertTrue(ended.await(30, TimeUnit.SECONDS));
        assertEquals(3, answers.size());
        assertEquals(batched, answers.get(0).getModel());
        assertEquals(Status.Code.INVALID_ARGUMENT.value(), answers.get(1).getError().getCode());
        assertEquals("input 0: tensor value 1 (channel 0, row 0, column 1) is Infinity; send finite numbers",
                answers.get(1).getError().getMessage(), "the message arrives intact");
        assertEquals(batched, answers.get(2).getModel());

        String metrics = http("/q/metrics");
        assertEquals(4, value(metrics, "distillery_model_requests_total", batched));
        assertEquals(1, value(metrics, "distillery_model_failures_total", batched, "status=\"INVALID_ARGUMENT\""));
        assertEquals(3, value(metrics, "distillery_model_queue_time_seconds_count", batched), "batched by default");
        assertEquals(3, value(metrics, "distillery_model_batch_size_count", batched));
        assertEquals(3, value(metrics, "distillery_model_compute_time_seconds_count", batched));
        assertEquals(1, value(metrics, "distillery_model_requests_total", plain));
        assertEquals(0, value(metrics, "distillery_model_queue_time_seconds_count", plain), "its own setting: no batcher");
        assertEquals(1, value(metrics, "distillery_model_compute_time_seconds_count", plain));
    }

    /** The value of the one series named {@code name} for a model version (and {@code more} labels). */
    private static double value(String metrics, String name, ModelRef model, String... more) {
        List<String> lines = metrics.lines()
                .filter(line -> line.startsWith(name + "{"))
                .filter(line -> line.contains("model=\"" + model.getName() + "\"")
                        && line.contains("version=\"" + model.getVersion() + "\""))
                .filter(line -> List.of(more).stream().allMatch(line::contains))
                .toList();
        assertEquals(1, lines.size(), name + " for " + model + ": " + lines);
        return Double.parseDouble(lines.get(0).substring(lines.get(0).lastIndexOf(' ') + 1));
    }

    private String http(String path) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://" + server.getHost() + ":" + server.getPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        return response.body();
    }
}
