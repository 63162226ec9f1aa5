package dev.distillery.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Hex digests of bytes and of files: SHA-256 for the store's checksums, MD5 for S3's ETags. */
final class Digests {

    static final String SHA_256 = "SHA-256";
    static final String MD5 = "MD5";

    private static final int BUFFER = 1 << 20;

    private Digests() {}

    static String hex(String algorithm, byte[] content) {
        return HexFormat.of().formatHex(digest(algorithm).digest(content));
    }

    /** The file read in pieces, so that a large model is never held in memory. */
    static String hex(String algorithm, Path file) throws IOException {
        MessageDigest digest = digest(algorithm);
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[BUFFER];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is part of every JRE", e);
        }
    }
}
