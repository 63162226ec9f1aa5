package dev.distillery.cli;

import dev.distillery.client.Channels;
import dev.distillery.client.ServerConnection;
import io.grpc.ManagedChannel;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;

/**
 * The command line: models, training jobs, evaluation and prediction on a running server, over gRPC
 * only. Run by the {@code distillery} script for every command other than demo, serve and test.
 *
 * <p>The channel factory and the Ctrl-C hook are constructor arguments so that tests run every command
 * in-process against fake services, exactly as {@link #main} wires them otherwise.
 */
@Command(name = "distillery", mixinStandardHelpOptions = true, version = "Distillery command line (API distillery.v1)",
        description = "Models, training jobs, evaluation and prediction on a Distillery server, over gRPC.",
        synopsisSubcommandLabel = "COMMAND",
        subcommands = {ModelsCommand.class, TrainCommand.class, JobsCommand.class, WatchCommand.class,
                EvalCommand.class, PredictCommand.class, HelpCommand.class})
public final class Distillery {

    private final Function<ServerConnection, ManagedChannel> channels;
    private final Interrupts interrupts;

    /**
     * @param channels opens a channel to a {@code --target}, with the {@code --token} and {@code --tls-ca} given
     * @param interrupts tells a command following a job that the user pressed Ctrl-C
     */
    public Distillery(Function<ServerConnection, ManagedChannel> channels, Interrupts interrupts) {
        this.channels = channels;
        this.interrupts = interrupts;
    }

    public static void main(String[] args) {
        System.exit(commandLine(new Distillery(Channels::open, new ShutdownHookInterrupts())).execute(args));
    }

    /** The command line for {@code root}, with errors reported as one line and an exit code. */
    public static CommandLine commandLine(Distillery root) {
        ErrorReport errors = new ErrorReport();
        return new CommandLine(root).setExecutionExceptionHandler(errors).setParameterExceptionHandler(errors);
    }

    ManagedChannel open(ServerConnection server) {
        return channels.apply(server);
    }

    Interrupts interrupts() {
        return interrupts;
    }
}
