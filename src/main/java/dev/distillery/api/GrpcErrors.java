package dev.distillery.api;

import dev.distillery.error.DistilleryException;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Turns what the services throw into gRPC statuses; the only place that decides a status code, except for
 * calls an interceptor turns away before any service sees them ({@link #refuse}).
 */
final class GrpcErrors {

    private static final Logger LOG = Logger.getLogger(GrpcErrors.class);

    private GrpcErrors() {}

    static StatusRuntimeException toStatus(Throwable error) {
        if (error instanceof StatusRuntimeException status) {
            return status;
        }
        if (error instanceof DistilleryException known) {
            Status.Code code = switch (known.kind()) {
                case INVALID_ARGUMENT -> Status.Code.INVALID_ARGUMENT;
                case NOT_FOUND -> Status.Code.NOT_FOUND;
                case FAILED_PRECONDITION -> Status.Code.FAILED_PRECONDITION;
                case RESOURCE_EXHAUSTED -> Status.Code.RESOURCE_EXHAUSTED;
                case ALREADY_EXISTS -> Status.Code.ALREADY_EXISTS;
                case UNAUTHENTICATED -> Status.Code.UNAUTHENTICATED;
                case PERMISSION_DENIED -> Status.Code.PERMISSION_DENIED;
            };
            return Status.fromCode(code).withDescription(known.getMessage()).asRuntimeException();
        }
        LOG.error("unexpected failure while serving a call", error);
        return Status.INTERNAL
                .withDescription("internal error (" + error.getClass().getSimpleName() + "): " + error.getMessage()
                        + "; the server log has the details")
                .withCause(error)
                .asRuntimeException();
    }

    /** Answers a unary call with what {@code call} returns, or with the status of what it throws. */
    static <T> void respond(StreamObserver<T> observer, Supplier<T> call) {
        T response;
        try {
            response = call.get();
        } catch (RuntimeException | Error e) {
            observer.onError(toStatus(e));
            return;
        }
        observer.onNext(response);
        observer.onCompleted();
    }

    /**
     * Ends a call an interceptor turns away (access control: UNAUTHENTICATED, PERMISSION_DENIED) before the
     * service sees it; returns the listener the interceptor hands back, which ignores whatever the client sends.
     *
     * <p>On Vert.x's gRPC server (the unified server) the close waits for the current event-loop task to end:
     * that server installs the call's listener only once the interceptors return, and closing a call notifies
     * the listener, so closing sooner fails with a NullPointerException after the status was sent.
     */
    static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status) {
        Context eventLoop = Vertx.currentContext();
        if (eventLoop == null) {
            call.close(status, new Metadata());
        } else {
            eventLoop.runOnContext(ignored -> {
                if (!call.isCancelled()) {
                    call.close(status, new Metadata());
                }
            });
        }
        return new ServerCall.Listener<>() {};
    }
}
