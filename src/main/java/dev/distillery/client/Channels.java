package dev.distillery.client;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import dev.distillery.error.DistilleryException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;

/** The channel every client in this project opens to a Distillery server: TLS or plain text, with a token or not. */
public final class Channels {

    /** The server's own limit on a message (application.properties); a model card with a long lineage fits. */
    private static final int MAX_INBOUND_BYTES = 64 << 20;

    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private Channels() {}

    /**
     * A channel to {@code server}; it connects on the first call.
     *
     * @throws UncheckedIOException when the CA file cannot be read
     * @throws DistilleryException when the CA file holds no PEM certificate
     */
    public static ManagedChannel open(ServerConnection server) {
        ManagedChannelBuilder<?> builder = Grpc.newChannelBuilder(server.target(), credentials(server))
                .maxInboundMessageSize(MAX_INBOUND_BYTES);
        server.token().ifPresent(token -> {
            Metadata headers = new Metadata();
            headers.put(AUTHORIZATION, "Bearer " + token);
            builder.intercept(MetadataUtils.newAttachHeadersInterceptor(headers));
        });
        return builder.build();
    }

    private static ChannelCredentials credentials(ServerConnection server) {
        if (server.tlsCa().isEmpty()) {
            return InsecureChannelCredentials.create();
        }
        Path ca = server.tlsCa().get();
        try (InputStream in = Files.newInputStream(ca)) {
            if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
                throw new CertificateException("no certificate in it");
            }
            return TlsChannelCredentials.newBuilder().trustManager(ca.toFile()).build();
        } catch (CertificateException e) {
            throw DistilleryException.invalid("%s is not a CA certificate in PEM form (-----BEGIN CERTIFICATE-----): %s",
                    ca, e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
