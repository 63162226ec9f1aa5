package dev.distillery.api;

import dev.distillery.serve.ModelRepository;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.DeleteModelRequest;
import dev.distillery.v1.DeleteModelResponse;
import dev.distillery.v1.DownloadModelRequest;
import dev.distillery.v1.DownloadModelResponse;
import dev.distillery.v1.GetModelRequest;
import dev.distillery.v1.ListModelsRequest;
import dev.distillery.v1.ListModelsResponse;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelsGrpc;
import dev.distillery.v1.UploadModelRequest;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;

/**
 * The model repository over gRPC. {@code @Blocking}: Quarkus runs every event of a call (each
 * upload chunk, each download "ready") on a worker thread, one after another in order, so writing
 * and reading files here never stalls the event loop.
 */
@GrpcService
@Blocking
public class ModelsGrpcService extends ModelsGrpc.ModelsImplBase {

    @Inject
    ModelStore store;

    @Inject
    ModelRepository repository;

    @Override
    public void listModels(ListModelsRequest request, StreamObserver<ListModelsResponse> observer) {
        GrpcErrors.respond(observer, () -> ListModelsResponse.newBuilder().addAllModels(store.list()).build());
    }

    @Override
    public void getModel(GetModelRequest request, StreamObserver<ModelInfo> observer) {
        GrpcErrors.respond(observer, () -> store.get(request.getModel()));
    }

    @Override
    public StreamObserver<UploadModelRequest> uploadModel(StreamObserver<ModelInfo> observer) {
        return new UploadStream(repository, observer);
    }

    @Override
    public void downloadModel(DownloadModelRequest request, StreamObserver<DownloadModelResponse> observer) {
        ModelDownload.start(store, request.getModel(), (ServerCallStreamObserver<DownloadModelResponse>) observer);
    }

    @Override
    public void deleteModel(DeleteModelRequest request, StreamObserver<DeleteModelResponse> observer) {
        GrpcErrors.respond(observer, () -> DeleteModelResponse.newBuilder()
                .setName(request.getModel().getName())
                .addAllDeletedVersions(repository.delete(request.getModel()))
                .build());
    }
}
