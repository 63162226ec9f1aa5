package dev.distillery.cli;

import dev.distillery.v1.GetModelRequest;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.ModelsGrpc;
import io.grpc.ManagedChannel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code distillery models show NAME[:VERSION]}: one model's card. */
@Command(name = "show",
        description = "Show a model's card: labels, input, preprocessing, metrics, lineage.")
final class ModelsShow extends ServerCommand {

    @Parameters(paramLabel = ModelRefConverter.LABEL, converter = ModelRefConverter.class,
            description = "The model; without a version, its newest.")
    ModelRef model;

    @Option(names = "--json", description = "Print the whole card as JSON, as model.json holds it.")
    boolean json;

    @Override
    int run(ManagedChannel channel) {
        ModelInfo card = ModelsGrpc.newBlockingStub(channel).getModel(GetModelRequest.newBuilder().setModel(model).build());
        out().print(json ? ModelCard.json(card) + System.lineSeparator() : ModelCard.summary(card));
        return 0;
    }
}
