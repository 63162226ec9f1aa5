package dev.distillery.api;

import dev.distillery.serve.ClassScore;
import dev.distillery.serve.ModelInput;
import dev.distillery.serve.Predictor;
import dev.distillery.v1.Classification;
import dev.distillery.v1.Input;
import dev.distillery.v1.PredictRequest;
import dev.distillery.v1.PredictResponse;
import dev.distillery.v1.PredictionGrpc;
import dev.distillery.v1.RequestError;
import dev.distillery.v1.Tensor;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.PostConstruct;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Objects;

/**
 * Prediction over gRPC. Predict runs where {@link CallPlacement} puts it (the event loop for a model that has
 * proven cheap, else a worker thread); PredictStream on worker threads, one request at a time per stream.
 */
@GrpcService
public class PredictionGrpcService extends PredictionGrpc.PredictionImplBase {

    @Inject
    Predictor predictor;

    @Inject
    MeterRegistry registry;

    @Inject
    CallPlacement placement;

    private Timer latency;

    @PostConstruct
    void metrics() {
        latency = Timer.builder("distillery.predict")
                .description("Predict calls and PredictStream requests inside the server: decode, preprocess, "
                        + "ONNX Runtime, top-k")
                .publishPercentileHistogram()
                .register(registry);
    }

    @Override
    public void predict(PredictRequest request, StreamObserver<PredictResponse> observer) {
        boolean tensorsOnly = request.getInputsList().stream().allMatch(Input::hasTensor);
        placement.run(request.getModel().getName(), Long.toString(request.getModel().getVersion()), tensorsOnly,
                () -> GrpcErrors.respond(observer, () -> answer(request)));
    }

    /**
     * One response per request, in order; a failed request is answered with its status in {@code error}
     * and the stream goes on. The next request is read only once this one is answered (gRPC's flow
     * control), so a stream holds one request in the server at a time.
     */
    @Override
    @Blocking
    public StreamObserver<PredictRequest> predictStream(StreamObserver<PredictResponse> responses) {
        // Once the client cancels, the answer in flight is dropped rather than thrown at from onNext.
        ((ServerCallStreamObserver<PredictResponse>) responses).setOnCancelHandler(() -> { });
        return new StreamObserver<>() {
            @Override
            public void onNext(PredictRequest request) {
                PredictResponse response;
                try {
                    response = answer(request);
                } catch (RuntimeException | Error e) {
                    Status status = GrpcErrors.toStatus(e).getStatus();
                    response = PredictResponse.newBuilder().setError(RequestError.newBuilder()
                            .setCode(status.getCode().value())
                            .setMessage(Objects.requireNonNullElse(status.getDescription(), ""))).build();
                }
                responses.onNext(response);
            }

            @Override
            public void onError(Throwable error) {
                // The client cancelled or broke the stream: nobody is left to answer.
            }

            @Override
            public void onCompleted() {
                responses.onCompleted();
            }
        };
    }

    private PredictResponse answer(PredictRequest request) {
        return latency.record(() -> {
            Predictor.Result result = predictor.predict(request.getModel(), inputs(request.getInputsList()), request.getTopK());
            PredictResponse.Builder response = PredictResponse.newBuilder().setModel(result.model().ref());
            for (List<ClassScore> top : result.classifications()) {
                Classification.Builder classification = response.addClassificationsBuilder();
                for (ClassScore score : top) {
                    classification.addTopBuilder()
                            .setIndex(score.index())
                            .setLabel(score.label())
                            .setProbability(score.probability());
                }
            }
            return response.build();
        });
    }

    private static List<ModelInput> inputs(List<Input> inputs) {
        return inputs.stream().map(PredictionGrpcService::input).toList();
    }

    private static ModelInput input(Input input) {
        return switch (input.getDataCase()) {
            case IMAGE -> new ModelInput.Image(input.getImage().toByteArray());
            case TENSOR -> tensor(input.getTensor());
            case DATA_NOT_SET -> new ModelInput.Image(new byte[0]);
        };
    }

    private static ModelInput tensor(Tensor tensor) {
        long[] shape = tensor.getShapeList().stream().mapToLong(Long::longValue).toArray();
        float[] values = new float[tensor.getValuesCount()];
        for (int i = 0; i < values.length; i++) {
            values[i] = tensor.getValues(i);
        }
        return new ModelInput.Tensor(shape, values);
    }
}
