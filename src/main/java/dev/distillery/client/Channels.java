package dev.distillery.client;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;

/** The channel every client in this project opens to a Distillery server: plaintext, as the server listens. */
public final class Channels {

    /** The server's own limit on a message (application.properties); a model card with a long lineage fits. */
    private static final int MAX_INBOUND_BYTES = 64 << 20;

    private Channels() {}

    /** A channel to {@code target}, {@code host:port}; it connects on the first call. */
    public static ManagedChannel open(String target) {
        return ManagedChannelBuilder.forTarget(target).usePlaintext().maxInboundMessageSize(MAX_INBOUND_BYTES).build();
    }
}
