package dev.distillery.api;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.spi.Prioritized;
import java.nio.charset.StandardCharsets;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Sends every status message ({@code grpc-message}) percent-encoded as the gRPC protocol specifies, so that
 * every client reads it as written.
 *
 * <p>Why: with {@code quarkus.grpc.server.use-separate-server=false}, gRPC runs on Vert.x's gRPC server, which
 * encodes the message with {@code java.net.URLEncoder} (HTML form encoding: everything but letters, digits and
 * {@code .-_} escaped). The protocol asks only for bytes outside {@code 0x20-0x7E}, and {@code '%'}, to be
 * escaped. Clients that fully percent-decode (grpc-java, gRPC core) undo both; grpc-js decodes with
 * JavaScript's {@code decodeURI}, which leaves the escapes of URI-reserved characters in place, so its users
 * read {@code "no inputs%3A send ..."}.
 *
 * <p>How: the description leaves the status and travels as a {@code grpc-message} trailer encoded here. The
 * Vert.x server copies a call's trailers to the response as they are and writes its own {@code grpc-message}
 * only for a status that has a description. Outermost of the server's interceptors, so it also sees statuses
 * that other interceptors set. With the separate grpc-java server, which encodes correctly itself (and would
 * replace this trailer), it does nothing.
 */
@GlobalInterceptor
@ApplicationScoped
public class StatusMessages implements ServerInterceptor, Prioritized {

    static final Metadata.Key<String> MESSAGE = Metadata.Key.of("grpc-message", Metadata.ASCII_STRING_MARSHALLER);
    private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);

    @ConfigProperty(name = "quarkus.grpc.server.use-separate-server", defaultValue = "true")
    boolean separateServer;

    @Override
    public int getPriority() {
        return Integer.MAX_VALUE;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        if (separateServer) {
            return next.startCall(call, headers);
        }
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                if (status.getDescription() != null) {
                    trailers.discardAll(MESSAGE);
                    trailers.put(MESSAGE, encode(status.getDescription()));
                    status = status.withDescription(null);
                }
                super.close(status, trailers);
            }
        }, headers);
    }

    /**
     * The protocol's percent-encoding of a status message: its UTF-8 bytes, each byte outside the printable
     * ASCII range {@code 0x20-0x7E}, and {@code '%'} itself, written as {@code %XX}.
     */
    static String encode(String message) {
        byte[] utf8 = message.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[utf8.length * 3];
        int length = 0;
        for (byte b : utf8) {
            if (b >= ' ' && b <= '~' && b != '%') {
                out[length++] = b;
            } else {
                out[length++] = '%';
                out[length++] = HEX[(b >> 4) & 0xF];
                out[length++] = HEX[b & 0xF];
            }
        }
        return new String(out, 0, length, StandardCharsets.US_ASCII);
    }
}
