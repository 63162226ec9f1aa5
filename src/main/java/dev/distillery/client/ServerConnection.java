package dev.distillery.client;

import java.nio.file.Path;
import java.util.Optional;

/**
 * How a client reaches a Distillery server.
 *
 * @param target the server's {@code host:port}
 * @param token the access token to send as {@code authorization: Bearer <token>}, when the server has access
 *     control on
 * @param tlsCa the PEM file of the CA that signed the server's TLS certificate; present means TLS, absent
 *     plain text
 */
public record ServerConnection(String target, Optional<String> token, Optional<Path> tlsCa) {

    /** Plain text, no token: a server started with neither TLS nor access control, as the demo's. */
    public static ServerConnection plainText(String target) {
        return new ServerConnection(target, Optional.empty(), Optional.empty());
    }
}
