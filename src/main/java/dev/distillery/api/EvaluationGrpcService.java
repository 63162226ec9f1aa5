package dev.distillery.api;

import dev.distillery.eval.Evaluator;
import dev.distillery.eval.ModelReport;
import dev.distillery.v1.EvaluateRequest;
import dev.distillery.v1.EvaluateResponse;
import dev.distillery.v1.EvaluationGrpc;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;

@GrpcService
@Blocking
public class EvaluationGrpcService extends EvaluationGrpc.EvaluationImplBase {

    @Inject
    Evaluator evaluator;

    @Override
    public void evaluate(EvaluateRequest request, StreamObserver<EvaluateResponse> observer) {
        GrpcErrors.respond(observer, () -> {
            Evaluator.Report report = evaluator.evaluate(request.getModelsList(), request.getDataset(),
                    request.getSplit(), request.getLimit(), request.getLatencySamples());
            EvaluateResponse.Builder response = EvaluateResponse.newBuilder()
                    .setDataset(report.dataset())
                    .setSplit(report.split())
                    .setImages(report.images());
            for (ModelReport row : report.models()) {
                response.addResultsBuilder()
                        .setModel(row.model())
                        .setParameters(row.parameters())
                        .setTop1Accuracy(row.top1Accuracy())
                        .setTop5Accuracy(row.top5Accuracy())
                        .setLatencyP50Ms(row.latencyP50Ms())
                        .setLatencyP99Ms(row.latencyP99Ms());
            }
            return response.build();
        });
    }
}
