package dev.distillery.cli;

import dev.distillery.client.EvaluationTable;
import dev.distillery.v1.EvaluateRequest;
import dev.distillery.v1.EvaluationGrpc;
import dev.distillery.v1.ModelRef;
import io.grpc.ManagedChannel;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code distillery eval MODEL... --dataset D}: the seed's comparison table. */
@Command(name = "eval",
        description = "Compare models on a dataset: parameters, top-1 and top-5 accuracy, p50 and p99 time per image.")
final class EvalCommand extends ServerCommand {

    @Parameters(arity = "1..*", paramLabel = ModelRefConverter.LABEL, converter = ModelRefConverter.class,
            description = "The models, in the order of the table's rows.")
    List<ModelRef> models;

    @Option(names = "--dataset", required = true, paramLabel = "NAME", description = "A dataset configured on the server, e.g. fashion-mnist.")
    String dataset;

    @Option(names = "--split", defaultValue = "test", paramLabel = "SPLIT", description = "test or train (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--limit", defaultValue = "0", paramLabel = "N", description = "Only the first N images (default: all).")
    int limit;

    @Override
    int run(ManagedChannel channel) {
        EvaluateRequest request = EvaluateRequest.newBuilder().addAllModels(models).setDataset(dataset).setSplit(split)
                .setLimit(limit).build();
        out().print(EvaluationTable.render(EvaluationGrpc.newBlockingStub(channel).evaluate(request)));
        return 0;
    }
}
