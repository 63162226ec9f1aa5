package dev.distillery.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.distillery.data.BlankPng;
import dev.distillery.serve.Batching;
import dev.distillery.serve.ModelSessions;
import dev.distillery.serve.OnnxModels;
import dev.distillery.serve.OnnxRuntime;
import dev.distillery.serve.Predictor;
import dev.distillery.serve.ServingMetrics;
import dev.distillery.serve.ServingOptions;
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
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Predict and PredictStream over an in-process gRPC server with the real service and serving core, on a
 * tiny linear classifier (1 x 2 x 2 inputs, 3 classes) served through its dynamic batcher.
 */
class PredictionGrpcServiceTest {

    @TempDir
    Path temp;

    private final ExecutorService workers = Executors.newCachedThreadPool();
    private ModelSessions sessions;
    private Server server;
    private ManagedChannel channel;
    private PredictionGrpc.PredictionBlockingStub blocking;
    private PredictionGrpc.PredictionStub streaming;

    @BeforeEach
    void start() throws Exception {
        ModelStore store = new ModelStore(temp);
        store.add("tiny", OnnxModels.classifier(1, 2, 2, 3).bytes(), ModelInfo.newBuilder()
                .addLabels("a").addLabels("b").addLabels("c").addInputShape(1).addInputShape(2).addInputShape(2)
                .setPreprocessing(Preprocessing.newBuilder().setColor("gray").addMean(0).addStd(1)).build());
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        sessions = new ModelSessions(store, new OnnxRuntime("cpu", 1), new ServingOptions(
                new Batching(true, List.of(), 8, 0, 64), Map.of(), new ServingMetrics(registry)));
        PredictionGrpcService service = new PredictionGrpcService();
        service.predictor = new Predictor(sessions, 16, 1 << 24);
        service.registry = registry;
        service.placement = new CallPlacement(TimeUnit.MILLISECONDS.toNanos(50), workers, model -> true);
        service.metrics();
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).addService(service).build().start();
        channel = InProcessChannelBuilder.forName(name).build();
        blocking = PredictionGrpc.newBlockingStub(channel);
        streaming = PredictionGrpc.newStub(channel);
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.shutdownNow();
        workers.shutdownNow();
        sessions.close();
    }

    private static PredictRequest request(String model, int topK, float... values) {
        Tensor.Builder tensor = Tensor.newBuilder().addShape(1).addShape(2).addShape(2);
        for (float value : values) {
            tensor.addValues(value);
        }
        return PredictRequest.newBuilder().setModel(ModelRef.newBuilder().setName(model)).setTopK(topK)
                .addInputs(Input.newBuilder().setTensor(tensor)).build();
    }

    /** Collects a stream's responses and how it ended. */
    private static final class Responses implements StreamObserver<PredictResponse> {
        final List<PredictResponse> received = new CopyOnWriteArrayList<>();
        final CountDownLatch ended = new CountDownLatch(1);
        volatile Throwable error;

        @Override
        public void onNext(PredictResponse response) {
            received.add(response);
        }

        @Override
        public void onError(Throwable t) {
            error = t;
            ended.countDown();
        }

        @Override
        public void onCompleted() {
            ended.countDown();
        }
    }

    @Test
    void aStreamAnswersEveryRequestInOrderAndAFailedOneDoesNotEndIt() throws Exception {
        Responses responses = new Responses();
        StreamObserver<PredictRequest> requests = streaming.predictStream(responses);
        requests.onNext(request("tiny", 2, 1, 2, 3, 4));
        requests.onNext(request("tiny", 2, 1, Float.NaN, 3, 4));
        requests.onNext(request("absent", 2, 1, 2, 3, 4));
        requests.onNext(request("tiny", Integer.MAX_VALUE, 4, 3, 2, 1));
        requests.onCompleted();
        assertTrue(responses.ended.await(30, TimeUnit.SECONDS));
        assertNull(responses.error, "the stream ended normally");

        List<PredictResponse> answers = responses.received;
        assertEquals(4, answers.size());
        assertEquals(2, answers.get(0).getClassifications(0).getTopCount());
        assertEquals(ModelRef.newBuilder().setName("tiny").setVersion(1).build(), answers.get(0).getModel());
        assertFalse(answers.get(0).hasError());

        assertEquals(Status.Code.INVALID_ARGUMENT.value(), answers.get(1).getError().getCode());
        assertEquals("input 0: tensor value 1 (channel 0, row 0, column 1) is NaN; send finite numbers",
                answers.get(1).getError().getMessage());
        assertEquals(0, answers.get(1).getClassificationsCount());
        assertFalse(answers.get(1).hasModel());

        assertEquals(Status.Code.NOT_FOUND.value(), answers.get(2).getError().getCode());
        assertTrue(answers.get(2).getError().getMessage().contains("absent"), answers.get(2).getError().getMessage());

        assertEquals(3, answers.get(3).getClassifications(0).getTopCount(), "top_k capped at the 3 classes");
        assertFalse(answers.get(3).hasError());
    }

    @Test
    void predictAnswersAHugeTopKWithEveryClassAndAnImageBombWithAClearStatus() throws Exception {
        assertEquals(3, blocking.predict(request("tiny", Integer.MAX_VALUE, 1, 2, 3, 4)).getClassifications(0).getTopCount());

        PredictRequest bomb = PredictRequest.newBuilder().setModel(ModelRef.newBuilder().setName("tiny"))
                .addInputs(Input.newBuilder().setImage(ByteString.copyFrom(BlankPng.of(20_000, 20_000)))).build();
        StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> blocking.predict(bomb));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getStatus().getCode());
        assertEquals("input 0: image is 20000 x 20000 = 400,000,000 pixels; the server decodes at most 16,777,216: "
                + "send a smaller image", refused.getStatus().getDescription());
    }
}
