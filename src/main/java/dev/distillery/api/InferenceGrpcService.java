package dev.distillery.api;

import dev.distillery.inference.GRPCInferenceServiceGrpc;
import dev.distillery.inference.ModelInferRequest;
import dev.distillery.inference.ModelInferResponse;
import dev.distillery.inference.ModelMetadataRequest;
import dev.distillery.inference.ModelMetadataResponse;
import dev.distillery.inference.ModelReadyRequest;
import dev.distillery.inference.ModelReadyResponse;
import dev.distillery.inference.RepositoryIndexRequest;
import dev.distillery.inference.RepositoryIndexResponse;
import dev.distillery.inference.RepositoryModelLoadRequest;
import dev.distillery.inference.RepositoryModelLoadResponse;
import dev.distillery.inference.RepositoryModelUnloadRequest;
import dev.distillery.inference.RepositoryModelUnloadResponse;
import dev.distillery.inference.ServerLiveRequest;
import dev.distillery.inference.ServerLiveResponse;
import dev.distillery.inference.ServerMetadataRequest;
import dev.distillery.inference.ServerMetadataResponse;
import dev.distillery.inference.ServerReadyRequest;
import dev.distillery.inference.ServerReadyResponse;
import dev.distillery.serve.oip.InferenceProtocol;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;

/**
 * The Open Inference Protocol's gRPC service, {@code inference.GRPCInferenceService}, over {@link InferenceProtocol}.
 * ModelInfer runs where {@link CallPlacement} puts it; the other calls, which may load a model, on worker threads.
 */
@GrpcService
public class InferenceGrpcService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {

    @Inject
    InferenceProtocol protocol;

    @Inject
    CallPlacement placement;

    @Override
    public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> observer) {
        GrpcErrors.respond(observer, () -> ServerLiveResponse.newBuilder().setLive(true).build());
    }

    @Override
    @Blocking
    public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> observer) {
        GrpcErrors.respond(observer, () -> ServerReadyResponse.newBuilder().setReady(protocol.ready()).build());
    }

    @Override
    @Blocking
    public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> observer) {
        GrpcErrors.respond(observer, () -> ModelReadyResponse.newBuilder()
                .setReady(protocol.modelReady(request.getName(), request.getVersion())).build());
    }

    @Override
    @Blocking
    public void serverMetadata(ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> observer) {
        GrpcErrors.respond(observer, protocol::serverMetadata);
    }

    @Override
    @Blocking
    public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> observer) {
        GrpcErrors.respond(observer, () -> protocol.modelMetadata(request.getName(), request.getVersion()));
    }

    @Override
    public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> observer) {
        boolean tensorsOnly = request.getInputsList().stream().noneMatch(input -> "BYTES".equals(input.getDatatype()));
        placement.run(request.getModelName(), request.getModelVersion(), tensorsOnly,
                () -> GrpcErrors.respond(observer, () -> protocol.infer(request)));
    }

    @Override
    @Blocking
    public void repositoryIndex(RepositoryIndexRequest request, StreamObserver<RepositoryIndexResponse> observer) {
        GrpcErrors.respond(observer, () -> protocol.index(request.getRepositoryName(), request.getReady()));
    }

    @Override
    @Blocking
    public void repositoryModelLoad(RepositoryModelLoadRequest request,
            StreamObserver<RepositoryModelLoadResponse> observer) {
        GrpcErrors.respond(observer, () -> {
            protocol.load(request.getRepositoryName(), request.getModelName(), request.getParametersMap());
            return RepositoryModelLoadResponse.getDefaultInstance();
        });
    }

    @Override
    @Blocking
    public void repositoryModelUnload(RepositoryModelUnloadRequest request,
            StreamObserver<RepositoryModelUnloadResponse> observer) {
        GrpcErrors.respond(observer, () -> {
            protocol.unload(request.getRepositoryName(), request.getModelName(), request.getParametersMap());
            return RepositoryModelUnloadResponse.getDefaultInstance();
        });
    }
}
