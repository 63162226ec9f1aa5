package dev.distillery.cli;

import dev.distillery.v1.DeleteModelRequest;
import dev.distillery.v1.DeleteModelResponse;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.ModelsGrpc;
import io.grpc.ManagedChannel;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code distillery models delete NAME[:VERSION]}. */
@Command(name = "delete",
        description = "Delete one version of a model, or every version when no version is given. "
                + "The server refuses while a queued or running job uses the model as its teacher.")
final class ModelsDelete extends ServerCommand {

    @Parameters(paramLabel = ModelRefConverter.LABEL, converter = ModelRefConverter.class,
            description = "The model; without a version, every version of it.")
    ModelRef model;

    @Override
    int run(ManagedChannel channel) {
        DeleteModelResponse deleted = ModelsGrpc.newBlockingStub(channel)
                .deleteModel(DeleteModelRequest.newBuilder().setModel(model).build());
        out().printf("deleted %s version%s %s%n", deleted.getName(), deleted.getDeletedVersionsCount() == 1 ? "" : "s",
                deleted.getDeletedVersionsList().stream().map(String::valueOf).collect(Collectors.joining(", ")));
        return 0;
    }
}
