package dev.distillery.cli;

import dev.distillery.error.DistilleryException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import javax.net.ssl.SSLException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Whatever a command fails with becomes one line on standard error and a non-zero exit code, never a
 * stack trace: {@code error: NOT_FOUND: <the server's message>} for a gRPC status, {@code error: <what
 * was wrong>} for a bad file or argument. Usage errors exit with 2, everything else with 1.
 */
final class ErrorReport implements IExecutionExceptionHandler, IParameterExceptionHandler {

    static final int FAILURE = 1;

    @Override
    public int handleExecutionException(Exception failure, CommandLine command, ParseResult parsed) {
        command.getErr().println("error: " + oneLine(describe(failure, command)));
        command.getErr().flush();
        return FAILURE;
    }

    @Override
    public int handleParseException(ParameterException failure, String[] args) {
        CommandLine command = failure.getCommandLine();
        String message = failure.getMessage();
        if (failure instanceof UnmatchedArgumentException unmatched) {
            List<String> suggestions = unmatched.getSuggestions();
            if (!suggestions.isEmpty()) {
                message += "; did you mean " + String.join(" or ", suggestions) + "?";
            }
        }
        command.getErr().printf("error: %s (see: %s --help)%n", oneLine(message),
                command.getCommandSpec().qualifiedName());
        command.getErr().flush();
        return command.getCommandSpec().exitCodeOnInvalidInput();
    }

    private static String describe(Exception thrown, CommandLine command) {
        Exception failure = thrown instanceof UncheckedIOException unchecked ? unchecked.getCause() : thrown;
        if (failure instanceof StatusRuntimeException rpc) {
            Status status = rpc.getStatus();
            String line = status.getDescription() == null
                    ? status.getCode().name()
                    : status.getCode() + ": " + status.getDescription();
            if (status.getCode() == Status.Code.UNAVAILABLE) {
                SSLException tls = tlsFailure(rpc);
                if (tls != null) {
                    return status.getCode() + ": TLS with " + target(command) + " failed: " + tls.getMessage()
                            + " (is --tls-ca the CA that signed the server's certificate, and does that certificate "
                            + "name the host of --target?)";
                }
                line += " (is the server running at " + target(command) + "? ./distillery serve starts one; "
                        + "a server with TLS needs --tls-ca)";
            }
            return line;
        }
        if (failure instanceof DistilleryException known) {
            return known.getMessage();
        }
        if (failure instanceof NoSuchFileException missing) {
            return "no such file: " + missing.getFile();
        }
        if (failure instanceof AccessDeniedException denied) {
            return "not allowed to read or write " + denied.getFile();
        }
        if (failure instanceof FileSystemException file) {
            return file.getFile() + ": " + file.getReason();
        }
        if (failure instanceof IOException io) {
            return io.getMessage();
        }
        // A defect of this program: still one line, naming the exception for a bug report.
        return "unexpected " + failure.getClass().getSimpleName() + ": " + failure.getMessage();
    }

    /** The TLS failure under a call's failure, or null when it failed otherwise. */
    private static SSLException tlsFailure(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof SSLException tls) {
                return tls;
            }
        }
        return null;
    }

    private static String target(CommandLine command) {
        OptionSpec option = command.getCommandSpec().findOption("--target");
        return option == null ? "the target" : String.valueOf((Object) option.getValue());
    }

    /** A server message or a file's complaint may span lines; the report is one. */
    private static String oneLine(String text) {
        return String.valueOf(text).strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
