package dev.distillery.config;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.PropertiesConfigSource;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.eclipse.microprofile.config.spi.ConfigSource;

/**
 * TLS on both of the server's ports from two PEM files. When {@code distillery.tls.cert} and
 * {@code distillery.tls.key} are set (env {@code DISTILLERY_TLS_CERT}, {@code DISTILLERY_TLS_KEY}), this adds
 * the Quarkus settings that make the gRPC server and the HTTP server (health, metrics) speak only TLS, each on
 * its usual port:
 * <ul>
 *   <li>{@code quarkus.grpc.server.ssl.certificate} and {@code .key}: the gRPC server, which then has no
 *       plain-text listener;
 *   <li>{@code quarkus.tls.key-store.pem.distillery.cert} and {@code .key}: the default TLS configuration,
 *       which the HTTP server uses;
 *   <li>{@code quarkus.http.ssl-port=${quarkus.http.port}} (and the test ports alike): HTTPS on the usual port;
 *   <li>{@code quarkus.http.insecure-requests=disabled}: no plain-text HTTP listener at all.
 * </ul>
 * These depend on whether a certificate is configured, which application.properties cannot say (Quarkus
 * refuses {@code insecure-requests=disabled} without a certificate). Ordinal 260: above application.properties,
 * below environment variables and system properties, which can still override any of them.
 */
public final class TlsSettings implements ConfigSourceFactory {

    static final String CERT = "distillery.tls.cert";
    static final String KEY = "distillery.tls.key";

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        return List.of(new PropertiesConfigSource(settings(value(context, CERT), value(context, KEY)),
                "distillery TLS settings", 260));
    }

    @Override
    public OptionalInt getPriority() {
        return OptionalInt.of(260);
    }

    /**
     * The Quarkus settings for a certificate and key (PEM paths; null or blank when not set): none without
     * either.
     *
     * @throws IllegalArgumentException when only one of the two is set
     */
    static Map<String, String> settings(String cert, String key) {
        boolean hasCert = cert != null && !cert.isBlank();
        boolean hasKey = key != null && !key.isBlank();
        if (hasCert != hasKey) {
            throw new IllegalArgumentException(String.format("TLS needs both a certificate and its private key (PEM "
                    + "files): %s (DISTILLERY_TLS_CERT) is %s but %s (DISTILLERY_TLS_KEY) is %s; set both, or "
                    + "neither for plain text", CERT, hasCert ? "set" : "not set", KEY, hasKey ? "set" : "not set"));
        }
        if (!hasCert) {
            return Map.of();
        }
        return Map.of(
                "quarkus.grpc.server.ssl.certificate", cert.strip(),
                "quarkus.grpc.server.ssl.key", key.strip(),
                "quarkus.tls.key-store.pem.distillery.cert", cert.strip(),
                "quarkus.tls.key-store.pem.distillery.key", key.strip(),
                "quarkus.http.ssl-port", "${quarkus.http.port}",
                "quarkus.http.test-ssl-port", "${quarkus.http.test-port}",
                "quarkus.http.insecure-requests", "disabled");
    }

    private static String value(ConfigSourceContext context, String name) {
        ConfigValue value = context.getValue(name);
        return value == null ? null : value.getValue();
    }
}
