package dev.distillery.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenSetTest {

    static final String PREDICT = "predict-0123456789abcdef";
    static final String TRAIN = "train-0123456789abcdef";
    static final String ADMIN = "admin-0123456789abcdef";

    @TempDir
    Path dir;

    @Test
    void readsOneTokenPerLineIgnoringBlankLinesAndSurroundingWhitespace() throws IOException {
        Files.writeString(dir.resolve("predict"), "\n  " + PREDICT + "  \r\n\t\npredict-second-token-xyz\n\n");
        Files.writeString(dir.resolve("train"), TRAIN);
        Files.writeString(dir.resolve("admin"), ADMIN + "\n");

        TokenSet tokens = TokenSet.read(dir);

        assertEquals(Optional.of(Role.PREDICT), tokens.roleOf(PREDICT));
        assertEquals(Optional.of(Role.PREDICT), tokens.roleOf("predict-second-token-xyz"));
        assertEquals(Optional.of(Role.TRAIN), tokens.roleOf(TRAIN));
        assertEquals(Optional.of(Role.ADMIN), tokens.roleOf(ADMIN));
        assertEquals(Map.of(Role.PREDICT, 2, Role.TRAIN, 1, Role.ADMIN, 1), tokens.counts());
    }

    @Test
    void onlyTheExactTokenMatches() throws IOException {
        Files.writeString(dir.resolve("admin"), ADMIN);
        TokenSet tokens = TokenSet.read(dir);

        assertEquals(Optional.empty(), tokens.roleOf(ADMIN.substring(0, ADMIN.length() - 1)), "a prefix");
        assertEquals(Optional.empty(), tokens.roleOf(ADMIN + "0"), "a longer token");
        assertEquals(Optional.empty(), tokens.roleOf(ADMIN.toUpperCase()), "tokens are case-sensitive");
        assertEquals(Optional.empty(), tokens.roleOf(""));
    }

    @Test
    void aTokenInSeveralFilesHasTheHighestOfTheirRoles() throws IOException {
        Files.writeString(dir.resolve("predict"), ADMIN + "\n" + TRAIN);
        Files.writeString(dir.resolve("admin"), ADMIN);
        Files.writeString(dir.resolve("train"), TRAIN);

        TokenSet tokens = TokenSet.read(dir);

        assertEquals(Optional.of(Role.ADMIN), tokens.roleOf(ADMIN));
        assertEquals(Optional.of(Role.TRAIN), tokens.roleOf(TRAIN));
    }

    @Test
    void aRoleWithoutAFileHasNoTokens() throws IOException {
        Files.writeString(dir.resolve("train"), TRAIN);
        TokenSet tokens = TokenSet.read(dir);

        assertEquals(Map.of(Role.PREDICT, 0, Role.TRAIN, 1, Role.ADMIN, 0), tokens.counts());
    }

    @Test
    void eachRoleIncludesTheOnesBelowIt() {
        assertTrue(Role.ADMIN.includes(Role.TRAIN) && Role.ADMIN.includes(Role.PREDICT) && Role.ADMIN.includes(Role.ADMIN));
        assertTrue(Role.TRAIN.includes(Role.PREDICT) && Role.TRAIN.includes(Role.TRAIN));
        assertFalse(Role.TRAIN.includes(Role.ADMIN));
        assertFalse(Role.PREDICT.includes(Role.TRAIN) || Role.PREDICT.includes(Role.ADMIN));
        assertEquals("predict", Role.PREDICT.fileName());
    }

    @Test
    void aMissingDirectoryIsRefusedWithWhereToMountIt() {
        Path missing = dir.resolve("nowhere");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TokenSet.read(missing));
        assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("mount"), e.getMessage());
    }

    @Test
    void aDirectoryWithoutTokensIsRefused() throws IOException {
        Files.writeString(dir.resolve("predict"), "\n   \n");
        Files.writeString(dir.resolve("unrelated"), PREDICT);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TokenSet.read(dir));
        assertTrue(e.getMessage().contains("holds no token"), e.getMessage());
    }

    @Test
    void aBadLineIsRefusedByFileAndLineWithoutShowingIt() throws IOException {
        Files.writeString(dir.resolve("train"), TRAIN + "\n\nshort-secret\n");
        IllegalArgumentException tooShort = assertThrows(IllegalArgumentException.class, () -> TokenSet.read(dir));
        assertTrue(tooShort.getMessage().contains(dir.resolve("train") + " line 3")
                && tooShort.getMessage().contains("at least 16"), tooShort.getMessage());
        assertFalse(tooShort.getMessage().contains("short-secret"), "never shows a token");

        Files.writeString(dir.resolve("train"), "two-words-0123456789 secret-second-half\n");
        IllegalArgumentException space = assertThrows(IllegalArgumentException.class, () -> TokenSet.read(dir));
        assertTrue(space.getMessage().contains(dir.resolve("train") + " line 1")
                && space.getMessage().contains("no spaces"), space.getMessage());
        assertFalse(space.getMessage().contains("secret"), "never shows a token");
    }
}
