package dev.distillery.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.jobs.ControlChannel;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class WorkerSettingsTest {

    @Test
    void aWorkerOpensNoPortAndOtherRolesKeepTheirs() {
        assertEquals(Map.of("quarkus.http.host-enabled", "false", "quarkus.grpc.server.use-separate-server", "false"),
                WorkerSettings.settings(" worker "));
        assertEquals(Map.of(), WorkerSettings.settings("control,serve"));
        assertEquals(Map.of(), WorkerSettings.settings("serve"));
        assertEquals(Map.of(), WorkerSettings.settings(null));
        assertEquals(Map.of(), WorkerSettings.settings("worker,serve"), "a bad value is Roles' to refuse, with its message");
    }

    @Test
    void theServerPermitsTheWorkersKeepalivePings() throws IOException {
        Properties properties = new Properties();
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("application.properties")) {
            properties.load(in);
        }
        String permitted = properties.getProperty("quarkus.grpc.server.netty.permit-keep-alive-time");
        assertTrue(permitted != null && permitted.matches("[0-9]+s"), "set in seconds: " + permitted);
        assertTrue(Duration.ofSeconds(Long.parseLong(permitted.replace("s", ""))).compareTo(ControlChannel.KEEPALIVE) < 0,
                "grpc-java closes a connection pinged more often than it permits: workers ping every "
                        + ControlChannel.KEEPALIVE + ", the server permits every " + permitted);
    }
}
