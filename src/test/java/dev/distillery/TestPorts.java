package dev.distillery;

import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Where a @QuarkusTest's server takes gRPC: the separate gRPC server's port, random in tests (its setting holds
 * the real port once the server listens). HTTP (health, metrics) is on its own port: {@code @TestHTTPResource}.
 */
public final class TestPorts {

    private TestPorts() {}

    public static int grpc() {
        return ConfigProvider.getConfig().getValue("quarkus.grpc.server.test-port", Integer.class);
    }

    /** host:port, as clients and the command line take it. */
    public static String grpcTarget() {
        return "localhost:" + grpc();
    }
}
