package dev.distillery.api;

import dev.distillery.config.DistilleryConfig;
import dev.distillery.security.Role;
import dev.distillery.security.TokenDirectory;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.inject.spi.Prioritized;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Lets a call through only with a bearer token whose role {@link AccessTable} asks for: metadata
 * {@code authorization: Bearer <token>}, the token from the token directory ({@link TokenDirectory}).
 * No token, a malformed one or an unknown one: UNAUTHENTICATED, saying what to send. A known token without the
 * role: PERMISSION_DENIED, naming the role needed. Health, reflection and the internal worker channel pass
 * ({@link AccessTable#exempt}). HTTP (/q/health, /q/metrics) never reaches a gRPC interceptor and stays open.
 *
 * <p>Off unless {@code distillery.auth.enabled}; then the server does not start without a valid token directory.
 * Tokens are never logged nor echoed in a status.
 */
@GlobalInterceptor
@Singleton
@Startup
public class AccessControl implements ServerInterceptor, Prioritized {

    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final String BEARER = "Bearer ";
    private static final String WHAT_TO_SEND = "send the metadata 'authorization: Bearer <token>' with a token from "
            + "the server's token files predict, train or admin (the command line: --token or DISTILLERY_TOKEN)";
    private static final Logger LOG = Logger.getLogger(AccessControl.class);

    /** Null when access control is off. */
    private final TokenDirectory tokens;

    @Inject
    AccessControl(DistilleryConfig config) {
        this(config.auth().enabled() ? open(config.auth(), config.tls().cert().isPresent()) : null);
    }

    /** @param tokens the tokens to check, or null to let every call through */
    AccessControl(TokenDirectory tokens) {
        this.tokens = tokens;
    }

    /**
     * The token directory access control checks calls against.
     *
     * @throws IllegalStateException when it holds no valid tokens: the server then stops rather than run open
     */
    static TokenDirectory open(DistilleryConfig.Auth auth, boolean tls) {
        TokenDirectory tokens;
        try {
            tokens = TokenDirectory.open(auth.tokens(), auth.reloadInterval());
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("access control is on (distillery.auth.enabled, DISTILLERY_AUTH) but "
                    + e.getMessage() + " (DISTILLERY_TOKENS sets the directory); the server does not start without "
                    + "tokens rather than run open", e);
        }
        if (!tls) {
            LOG.warn("access control is on without TLS: tokens cross the network in plain text; set "
                    + "DISTILLERY_TLS_CERT and DISTILLERY_TLS_KEY unless a proxy in front terminates TLS");
        }
        return tokens;
    }

    /** Outermost: a call without the right token goes no further. */
    @Override
    public int getPriority() {
        return Integer.MAX_VALUE - 1;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        if (tokens == null || AccessTable.exempt(method)) {
            return next.startCall(call, headers);
        }
        Status refusal = refusal(method, headers.get(AUTHORIZATION));
        return refusal == null ? next.startCall(call, headers) : GrpcErrors.refuse(call, refusal);
    }

    /** Why a call to {@code method} with this authorization value is refused, or null when it may go on. */
    private Status refusal(String method, String authorization) {
        if (authorization == null) {
            return Status.UNAUTHENTICATED.withDescription(method + " needs an access token: " + WHAT_TO_SEND);
        }
        if (!authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())
                || authorization.substring(BEARER.length()).isBlank()) {
            return Status.UNAUTHENTICATED.withDescription(
                    "the authorization metadata is not of the form 'Bearer <token>': " + WHAT_TO_SEND);
        }
        Optional<Role> granted = tokens.roleOf(authorization.substring(BEARER.length()).strip());
        if (granted.isEmpty()) {
            return Status.UNAUTHENTICATED.withDescription("the access token is not one the server knows: "
                    + WHAT_TO_SEND);
        }
        Optional<Role> required = AccessTable.required(method);
        if (required.isEmpty()) {
            return Status.PERMISSION_DENIED.withDescription(method
                    + " is not in the server's access table, so no token may call it");
        }
        if (!granted.get().includes(required.get())) {
            return Status.PERMISSION_DENIED.withDescription(String.format(
                    "%s needs the %s role (or a role above it: predict < train < admin); this token has the %s role",
                    method, required.get(), granted.get()));
        }
        return null;
    }

    @PreDestroy
    void close() throws InterruptedException {
        if (tokens != null) {
            tokens.close();
        }
    }
}
