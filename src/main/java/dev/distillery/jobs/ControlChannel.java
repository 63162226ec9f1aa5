package dev.distillery.jobs;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A worker's channel to control: TLS trusting the given CA when control's port speaks TLS (the cluster's
 * certificate, signed by its own CA), plain text otherwise. Keepalive pings find a control that vanished
 * without closing the connection (a lost node).
 */
public final class ControlChannel {

    /**
     * How often a worker pings control on its report stream. The server must permit it
     * ({@code quarkus.grpc.server.netty.permit-keep-alive-time}, grpc-java's default 5 minutes): a server pinged more
     * often closes the connection (GOAWAY "too_many_pings"), and the worker stops as if control were gone.
     */
    public static final Duration KEEPALIVE = Duration.ofSeconds(30);

    private ControlChannel() {
    }

    /**
     * @param target control's host:port
     * @param ca the PEM file of the CA that signed control's certificate; empty for plain text
     * @throws UncheckedIOException when the CA file cannot be read
     */
    public static ManagedChannel open(String target, Optional<Path> ca) {
        ChannelCredentials credentials = ca.map(ControlChannel::trusting).orElseGet(InsecureChannelCredentials::create);
        return Grpc.newChannelBuilder(target, credentials).keepAliveTime(KEEPALIVE.toNanos(), TimeUnit.NANOSECONDS).build();
    }

    private static ChannelCredentials trusting(Path ca) {
        try {
            return TlsChannelCredentials.newBuilder().trustManager(ca.toFile()).build();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read control's CA " + ca
                    + " (distillery.worker.tls-ca, DISTILLERY_CONTROL_CA): " + e.getMessage(), e);
        }
    }
}
