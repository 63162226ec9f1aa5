package dev.distillery.security;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The access tokens of one reading of the token directory, as Kubernetes mounts a Secret: one file per role,
 * named {@code predict}, {@code train} and {@code admin}, each holding tokens one per line (surrounding
 * whitespace and blank lines ignored; a missing file holds none). A token listed in several files has the
 * highest of their roles.
 *
 * <p>Only SHA-256 digests of the tokens are kept. A lookup compares the presented token's digest with every
 * stored one in constant time ({@link MessageDigest#isEqual}) and never stops early, so how long it takes says
 * nothing about which tokens exist or how much of one matched.
 */
public final class TokenSet {

    /** Shorter tokens are refused: they could be guessed. */
    public static final int MIN_LENGTH = 16;

    static final TokenSet EMPTY = new TokenSet(Map.of());

    private final Map<ByteBuffer, Role> roles;

    private TokenSet(Map<ByteBuffer, Role> roles) {
        this.roles = roles;
    }

    /**
     * Reads {@code directory}.
     *
     * @throws IllegalArgumentException when the directory is missing or unreadable, a line is not a valid
     *     token (the message names the file and line, never the line's content), or no file holds a token
     */
    public static TokenSet read(Path directory) {
        if (!Files.isDirectory(directory)) {
            throw new IllegalArgumentException("the token directory " + directory + " does not exist or is not a "
                    + "directory: mount the token Secret there, with files named predict, train and/or admin");
        }
        Map<ByteBuffer, Role> roles = new HashMap<>();
        for (Role role : Role.values()) {
            Path file = directory.resolve(role.fileName());
            List<String> lines;
            try {
                lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                continue;
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read the token file " + file + ": " + e, e);
            }
            for (int i = 0; i < lines.size(); i++) {
                String token = lines.get(i).strip();
                if (token.isEmpty()) {
                    continue;
                }
                check(token, file, i + 1);
                // Roles are visited in ascending order, so the highest file naming a token wins.
                roles.put(ByteBuffer.wrap(digest(token)), role);
            }
        }
        if (roles.isEmpty()) {
            throw new IllegalArgumentException("the token directory " + directory + " holds no token: put one token "
                    + "per line in files named predict, train and/or admin");
        }
        return new TokenSet(Map.copyOf(roles));
    }

    private static void check(String token, Path file, int line) {
        // The line itself is never part of the message: it may be a real token with a typo.
        if (token.length() < MIN_LENGTH) {
            throw new IllegalArgumentException(String.format("%s line %d: a token needs at least %d characters; "
                    + "make one with: openssl rand -hex 32", file, line, MIN_LENGTH));
        }
        if (!token.chars().allMatch(c -> c > ' ' && c <= '~')) {
            throw new IllegalArgumentException(String.format("%s line %d: a token may hold only visible ASCII "
                    + "characters, no spaces; make one with: openssl rand -hex 32", file, line));
        }
    }

    /** The role of {@code token}, or empty when it is not one of the set's tokens. */
    public Optional<Role> roleOf(String token) {
        byte[] presented = digest(token);
        Role found = null;
        for (Map.Entry<ByteBuffer, Role> entry : roles.entrySet()) {
            if (MessageDigest.isEqual(entry.getKey().array(), presented)) {
                found = entry.getValue();
            }
        }
        return Optional.ofNullable(found);
    }

    /** How many tokens hold each role; for the log, which never shows a token. */
    public Map<Role, Integer> counts() {
        Map<Role, Integer> counts = new EnumMap<>(Role.class);
        for (Role role : Role.values()) {
            counts.put(role, 0);
        }
        roles.values().forEach(role -> counts.merge(role, 1, Integer::sum));
        return counts;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TokenSet set && set.roles.equals(roles);
    }

    @Override
    public int hashCode() {
        return roles.hashCode();
    }

    private static byte[] digest(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
