package dev.distillery.security;

import static dev.distillery.security.TokenSetTest.ADMIN;
import static dev.distillery.security.TokenSetTest.PREDICT;
import static dev.distillery.security.TokenSetTest.TRAIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenDirectoryTest {

    /** Long enough that the reader thread never runs during a test that calls reload() itself. */
    private static final Duration NEVER = Duration.ofHours(1);

    @TempDir
    Path dir;

    @Test
    void aReloadPicksUpAddedChangedAndRemovedTokens() throws Exception {
        Files.writeString(dir.resolve("predict"), PREDICT);
        try (TokenDirectory tokens = TokenDirectory.open(dir, NEVER)) {
            assertEquals(Optional.of(Role.PREDICT), tokens.roleOf(PREDICT));

            // Same length, same second: only the content tells the change.
            Files.writeString(dir.resolve("predict"), PREDICT.replace('0', 'Z'));
            Files.writeString(dir.resolve("admin"), ADMIN);
            tokens.reload();

            assertEquals(Optional.empty(), tokens.roleOf(PREDICT), "a token taken out no longer works");
            assertEquals(Optional.of(Role.PREDICT), tokens.roleOf(PREDICT.replace('0', 'Z')));
            assertEquals(Optional.of(Role.ADMIN), tokens.roleOf(ADMIN));
        }
    }

    @Test
    void aSecretKubernetesUpdatedInPlaceIsReadAgain() throws Exception {
        // How the kubelet lays out a mounted Secret: each file links through ..data to a timestamped folder, and an
        // update writes a new folder, then swaps the ..data link atomically.
        writeSecretVersion("..2026_11_30_01", TRAIN, "");
        Path data = dir.resolve("..data");
        Files.createSymbolicLink(data, Path.of("..2026_11_30_01"));
        for (String role : new String[] {"predict", "train", "admin"}) {
            Files.createSymbolicLink(dir.resolve(role), Path.of("..data", role));
        }
        try (TokenDirectory tokens = TokenDirectory.open(dir, NEVER)) {
            assertEquals(Optional.of(Role.TRAIN), tokens.roleOf(TRAIN));

            writeSecretVersion("..2026_11_30_02", "", ADMIN);
            Path next = dir.resolve("..data_tmp");
            Files.createSymbolicLink(next, Path.of("..2026_11_30_02"));
            Files.move(next, data, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            tokens.reload();

            assertEquals(Optional.empty(), tokens.roleOf(TRAIN));
            assertEquals(Optional.of(Role.ADMIN), tokens.roleOf(ADMIN));
        }
    }

    private void writeSecretVersion(String folder, String train, String admin) throws IOException {
        Path version = Files.createDirectory(dir.resolve(folder));
        Files.writeString(version.resolve("predict"), PREDICT);
        Files.writeString(version.resolve("train"), train);
        Files.writeString(version.resolve("admin"), admin);
    }

    @Test
    void aBrokenReloadRefusesEveryTokenUntilFixed() throws Exception {
        Files.writeString(dir.resolve("train"), TRAIN);
        try (TokenDirectory tokens = TokenDirectory.open(dir, NEVER)) {
            Files.writeString(dir.resolve("train"), TRAIN + "\nshort\n");
            tokens.reload();
            assertEquals(Optional.empty(), tokens.roleOf(TRAIN), "fail closed: an invalid file refuses everything");

            Files.delete(dir.resolve("train"));
            tokens.reload();
            assertEquals(Optional.empty(), tokens.roleOf(TRAIN), "no tokens left");

            Files.writeString(dir.resolve("train"), TRAIN);
            tokens.reload();
            assertEquals(Optional.of(Role.TRAIN), tokens.roleOf(TRAIN), "fixed again");
        }
    }

    @Test
    void theReaderThreadPicksUpAChangeByItself() throws Exception {
        Files.writeString(dir.resolve("predict"), PREDICT);
        try (TokenDirectory tokens = TokenDirectory.open(dir, Duration.ofMillis(20))) {
            Files.writeString(dir.resolve("admin"), ADMIN);
            // Waits for the condition, bounded; the interval only sets how soon it can hold.
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (tokens.roleOf(ADMIN).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(Optional.of(Role.ADMIN), tokens.roleOf(ADMIN));
        }
    }

    @Test
    void openingRefusesAnEmptyDirectoryAndAnIntervalThatIsNotPositive() throws IOException {
        assertThrows(IllegalArgumentException.class, () -> TokenDirectory.open(dir, NEVER));
        Files.writeString(dir.resolve("predict"), PREDICT);
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> TokenDirectory.open(dir, Duration.ZERO));
        assertTrue(zero.getMessage().contains("reload-interval"), zero.getMessage());
    }
}
