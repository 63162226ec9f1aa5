package dev.distillery.cli;

import dev.distillery.v1.Recipe;
import dev.distillery.v1.TrainRequest;
import dev.distillery.v1.TrainingGrpc;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code distillery train RECIPE.yaml}: submits a recipe and follows the job until it ends. */
@Command(name = "train",
        description = {"Submit a training recipe (YAML, the fields of distillery.v1.Recipe; see recipes/) and follow "
                + "the job: one line per epoch with loss, validation accuracy, images/s and ETA.",
                "Ctrl-C detaches: the job goes on running on the server; distillery watch JOB follows it again."})
final class TrainCommand extends ServerCommand {

    @Parameters(paramLabel = "RECIPE.yaml", description = "The recipe.")
    Path recipeFile;

    @Option(names = "--detach", description = "Return once the job is queued, leaving it to run.")
    boolean detach;

    @Override
    int run(ManagedChannel channel) throws Exception {
        Recipe recipe = RecipeFile.read(recipeFile);
        TrainingGrpc.TrainingBlockingStub training = TrainingGrpc.newBlockingStub(channel);
        return new JobFollower(out(), err(), root().interrupts())
                .follow(() -> training.train(TrainRequest.newBuilder().setRecipe(recipe).build()), detach);
    }
}
