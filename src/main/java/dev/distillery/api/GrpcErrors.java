package dev.distillery.api;

import dev.distillery.error.DistilleryException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/** Turns what the services throw into gRPC statuses; the only place that decides a status code. */
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
}
