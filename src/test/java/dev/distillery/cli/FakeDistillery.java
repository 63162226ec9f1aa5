package dev.distillery.cli;

import dev.distillery.v1.CancelJobRequest;
import dev.distillery.v1.DeleteModelRequest;
import dev.distillery.v1.DeleteModelResponse;
import dev.distillery.v1.DownloadModelRequest;
import dev.distillery.v1.DownloadModelResponse;
import dev.distillery.v1.EvaluateRequest;
import dev.distillery.v1.EvaluateResponse;
import dev.distillery.v1.EvaluationGrpc;
import dev.distillery.v1.GetModelRequest;
import dev.distillery.v1.Job;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.ListJobsRequest;
import dev.distillery.v1.ListJobsResponse;
import dev.distillery.v1.ListModelsRequest;
import dev.distillery.v1.ListModelsResponse;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelsGrpc;
import dev.distillery.v1.PredictRequest;
import dev.distillery.v1.PredictResponse;
import dev.distillery.v1.PredictionGrpc;
import dev.distillery.v1.TrainRequest;
import dev.distillery.v1.TrainingGrpc;
import dev.distillery.v1.UploadModelRequest;
import dev.distillery.v1.WatchJobRequest;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Every Distillery service in-process, answering as a test scripts it and recording what it was
 * asked. A streaming answer is a list of messages; {@link #holdOpen} keeps the stream open after
 * them, as a running job's stream stays, until the client cancels it.
 */
final class FakeDistillery implements AutoCloseable {

    final String name = InProcessServerBuilder.generateName();
    private final Server server;

    /** Requests as they arrived, in order. */
    final List<Object> requests = Collections.synchronizedList(new ArrayList<>());
    /** UploadModel's messages, in order. */
    final List<UploadModelRequest> uploaded = Collections.synchronizedList(new ArrayList<>());
    /** Counted down when a client cancels a Train or WatchJob stream. */
    final CountDownLatch streamCancelled = new CountDownLatch(1);

    /** The unary answer to each request, or a status to fail with (thrown as StatusRuntimeException). */
    volatile Function<Object, Object> answer = request -> {
        throw Status.UNIMPLEMENTED.withDescription("not scripted").asRuntimeException();
    };
    /** Train's, WatchJob's and DownloadModel's messages. */
    volatile List<Object> stream = List.of();
    /** Ends the stream after its messages instead of completing it. */
    volatile StatusRuntimeException streamError;
    volatile boolean holdOpen;

    FakeDistillery() throws IOException {
        server = InProcessServerBuilder.forName(name)
                .addService(new Models()).addService(new Training()).addService(new Evaluation())
                .addService(new Prediction()).build().start();
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    boolean awaitCancelled() throws InterruptedException {
        return streamCancelled.await(10, TimeUnit.SECONDS);
    }

    @SuppressWarnings("unchecked")
    private <T> void unary(Object request, StreamObserver<T> observer) {
        requests.add(request);
        T response;
        try {
            response = (T) answer.apply(request);
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        observer.onNext(response);
        observer.onCompleted();
    }

    @SuppressWarnings("unchecked")
    private <T> void streaming(Object request, StreamObserver<T> observer) {
        ServerCallStreamObserver<T> call = (ServerCallStreamObserver<T>) observer;
        call.setOnCancelHandler(streamCancelled::countDown);
        requests.add(request);
        for (Object message : stream) {
            observer.onNext((T) message);
        }
        if (streamError != null) {
            observer.onError(streamError);
        } else if (!holdOpen) {
            observer.onCompleted();
        }
    }

    private final class Models extends ModelsGrpc.ModelsImplBase {
        @Override
        public void listModels(ListModelsRequest request, StreamObserver<ListModelsResponse> observer) {
            unary(request, observer);
        }

        @Override
        public void getModel(GetModelRequest request, StreamObserver<ModelInfo> observer) {
            unary(request, observer);
        }

        @Override
        public void deleteModel(DeleteModelRequest request, StreamObserver<DeleteModelResponse> observer) {
            unary(request, observer);
        }

        @Override
        public void downloadModel(DownloadModelRequest request, StreamObserver<DownloadModelResponse> observer) {
            streaming(request, observer);
        }

        @Override
        public StreamObserver<UploadModelRequest> uploadModel(StreamObserver<ModelInfo> observer) {
            return new StreamObserver<>() {
                @Override
                public void onNext(UploadModelRequest part) {
                    uploaded.add(part);
                }

                @Override
                public void onError(Throwable error) {}

                @Override
                public void onCompleted() {
                    unary(uploaded.get(0).getHeader(), observer);
                }
            };
        }
    }

    private final class Training extends TrainingGrpc.TrainingImplBase {
        @Override
        public void train(TrainRequest request, StreamObserver<JobEvent> observer) {
            streaming(request, observer);
        }

        @Override
        public void watchJob(WatchJobRequest request, StreamObserver<JobEvent> observer) {
            streaming(request, observer);
        }

        @Override
        public void listJobs(ListJobsRequest request, StreamObserver<ListJobsResponse> observer) {
            unary(request, observer);
        }

        @Override
        public void cancelJob(CancelJobRequest request, StreamObserver<Job> observer) {
            unary(request, observer);
        }
    }

    private final class Evaluation extends EvaluationGrpc.EvaluationImplBase {
        @Override
        public void evaluate(EvaluateRequest request, StreamObserver<EvaluateResponse> observer) {
            unary(request, observer);
        }
    }

    private final class Prediction extends PredictionGrpc.PredictionImplBase {
        @Override
        public void predict(PredictRequest request, StreamObserver<PredictResponse> observer) {
            unary(request, observer);
        }
    }
}
