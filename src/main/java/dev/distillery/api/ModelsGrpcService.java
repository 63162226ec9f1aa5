package dev.distillery.api;

import dev.distillery.store.ModelStore;
import dev.distillery.v1.GetModelRequest;
import dev.distillery.v1.ListModelsRequest;
import dev.distillery.v1.ListModelsResponse;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelsGrpc;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;

@GrpcService
@Blocking
public class ModelsGrpcService extends ModelsGrpc.ModelsImplBase {

    @Inject
    ModelStore store;

    @Override
    public void listModels(ListModelsRequest request, StreamObserver<ListModelsResponse> observer) {
        GrpcErrors.respond(observer, () -> ListModelsResponse.newBuilder().addAllModels(store.list()).build());
    }

    @Override
    public void getModel(GetModelRequest request, StreamObserver<ModelInfo> observer) {
        GrpcErrors.respond(observer, () -> store.get(request.getModel()));
    }
}
