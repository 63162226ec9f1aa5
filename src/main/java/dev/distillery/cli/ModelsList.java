package dev.distillery.cli;

import dev.distillery.client.TextTable;
import dev.distillery.v1.ListModelsRequest;
import dev.distillery.v1.ListModelsResponse;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelsGrpc;
import io.grpc.ManagedChannel;
import picocli.CommandLine.Command;

/** {@code distillery models list}: the newest version of every model, as a table. */
@Command(name = "list", description = "List the models in the store (newest versions).")
final class ModelsList extends ServerCommand {

    @Override
    int run(ManagedChannel channel) {
        ListModelsResponse response = ModelsGrpc.newBlockingStub(channel).listModels(ListModelsRequest.getDefaultInstance());
        if (response.getModelsCount() == 0) {
            out().println("no models yet: train one (distillery train RECIPE.yaml) or upload one (distillery models upload)");
            return 0;
        }
        TextTable table = new TextTable().text("name").number("version").number("versions").number("parameters")
                .text("input").number("classes").text("created").text("origin");
        for (ModelInfo model : response.getModelsList()) {
            table.row(model.getName(), String.valueOf(model.getVersion()), String.valueOf(model.getVersionsCount()),
                    String.format("%,d", model.getParameters()), ModelCard.shape(model.getInputShapeList()),
                    String.valueOf(model.getLabelsCount()), ModelCard.created(model.getCreated()), ModelCard.origin(model));
        }
        out().print(table.render());
        return 0;
    }
}
