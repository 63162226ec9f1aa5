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
 * A worker serves nothing, so it opens no port: when {@code distillery.roles} is {@code worker}, the HTTP server
 * gets no listener ({@code quarkus.http.host-enabled=false}) and gRPC goes back onto that HTTP server
 * ({@code quarkus.grpc.server.use-separate-server=false}) instead of a server of its own with a port. Otherwise a worker process beside its control on one
 * machine would try to bind control's very ports, and a worker pod would expose ports nothing calls. Whoever starts
 * a worker (the launchers, a person) only sets the role. Ordinal 260, as {@link TlsSettings}: environment variables
 * and system properties still win.
 */
public final class WorkerSettings implements ConfigSourceFactory {

    static final Map<String, String> NO_PORTS = Map.of(
            "quarkus.http.host-enabled", "false",
            "quarkus.grpc.server.use-separate-server", "false");

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        ConfigValue roles = context.getValue("distillery.roles");
        return List.of(new PropertiesConfigSource(settings(roles == null ? null : roles.getValue()),
                "distillery worker settings", 260));
    }

    @Override
    public OptionalInt getPriority() {
        return OptionalInt.of(260);
    }

    /**
     * The settings for the roles setting: {@link #NO_PORTS} for a worker, none otherwise (a bad value too: the
     * start then stops on it with {@link Roles}'s message).
     */
    static Map<String, String> settings(String roles) {
        try {
            return roles != null && Roles.parse(List.of(roles.split(","))).holds(Roles.Role.WORKER) ? NO_PORTS : Map.of();
        } catch (IllegalArgumentException e) {
            return Map.of();
        }
    }
}
