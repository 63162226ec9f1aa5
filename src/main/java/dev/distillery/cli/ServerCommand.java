package dev.distillery.cli;

import dev.distillery.client.ServerConnection;
import io.grpc.ManagedChannel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A command that talks to the server: its {@code --target}, {@code --token} and {@code --tls-ca} options, and a
 * channel open while it runs.
 */
abstract class ServerCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--target", paramLabel = "HOST:PORT", defaultValue = "localhost:${env:DISTILLERY_PORT:-8080}",
            description = "The server's gRPC address (default: ${DEFAULT-VALUE}; DISTILLERY_PORT sets the port).")
    String target;

    @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:DISTILLERY_TOKEN}",
            description = "Access token for a server with access control on (default: DISTILLERY_TOKEN, which "
                    + "keeps it out of the process list).")
    String token;

    @Option(names = "--tls-ca", paramLabel = "FILE", defaultValue = "${env:DISTILLERY_TLS_CA}",
            description = "Connect over TLS, trusting the server's certificate when this CA (PEM) signed it "
                    + "(default: DISTILLERY_TLS_CA); without it, plain text.")
    Path tlsCa;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help.")
    boolean help;

    @Override
    public final Integer call() throws Exception {
        ManagedChannel channel = root().open(new ServerConnection(target,
                Optional.ofNullable(token).map(String::strip).filter(t -> !t.isEmpty()), Optional.ofNullable(tlsCa)));
        try {
            return run(channel);
        } finally {
            // main() ends with System.exit: what was printed must be out by then.
            out().flush();
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** Does the command's work over {@code channel}; returns the exit code. */
    abstract int run(ManagedChannel channel) throws Exception;

    Distillery root() {
        return (Distillery) spec.root().userObject();
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }
}
