package dev.distillery.error;

/**
 * A failure the caller can act on. The gRPC adapters turn {@link #kind()} into a status code and
 * pass the message through unchanged, so write messages for a person: say what was wrong and what
 * would be accepted.
 */
public final class DistilleryException extends RuntimeException {

    /** Mirrors the gRPC status codes the server answers with. */
    public enum Kind {
        INVALID_ARGUMENT,
        NOT_FOUND,
        FAILED_PRECONDITION,
        RESOURCE_EXHAUSTED,
        ALREADY_EXISTS,
        UNAUTHENTICATED,
        PERMISSION_DENIED
    }

    private final Kind kind;

    public DistilleryException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public DistilleryException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public static DistilleryException invalid(String format, Object... args) {
        return new DistilleryException(Kind.INVALID_ARGUMENT, String.format(format, args));
    }

    public static DistilleryException notFound(String format, Object... args) {
        return new DistilleryException(Kind.NOT_FOUND, String.format(format, args));
    }

    public static DistilleryException precondition(String format, Object... args) {
        return new DistilleryException(Kind.FAILED_PRECONDITION, String.format(format, args));
    }

    public static DistilleryException unauthenticated(String format, Object... args) {
        return new DistilleryException(Kind.UNAUTHENTICATED, String.format(format, args));
    }

    public static DistilleryException permissionDenied(String format, Object... args) {
        return new DistilleryException(Kind.PERMISSION_DENIED, String.format(format, args));
    }
}
