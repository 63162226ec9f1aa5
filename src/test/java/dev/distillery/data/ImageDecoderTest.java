package dev.distillery.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.error.DistilleryException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDecoderTest {

    @TempDir
    Path temp;

    @Test
    void aPngBombIsRefusedFromItsHeaderWithoutDecodingIt() throws Exception {
        Path file = temp.resolve("bomb.png");
        Files.write(file, BlankPng.of(20_000, 20_000));
        byte[] bomb = Files.readAllBytes(file);
        assertTrue(bomb.length < 200_000, "small on disk: " + bomb.length + " bytes");

        // Decoded, 400 million pixels would take gigabytes: only the header may be read.
        DistilleryException refused = assertThrows(DistilleryException.class,
                () -> ImageDecoder.decode(bomb, 1 << 24));
        assertEquals(DistilleryException.Kind.RESOURCE_EXHAUSTED, refused.kind());
        assertEquals("image is 20000 x 20000 = 400,000,000 pixels; the server decodes at most 16,777,216: "
                + "send a smaller image", refused.getMessage());
        ImageShape header = ImageDecoder.header(file);
        assertEquals(List.of(20_000, 20_000), List.of(header.height(), header.width()), "a valid PNG, not a broken one");
    }

    @Test
    void anImageAtTheLimitIsDecoded() throws Exception {
        byte[] png = BlankPng.of(64, 32);
        Pixels pixels = ImageDecoder.decode(png, 64 * 32);
        assertEquals(List.of(32, 64), List.of(pixels.height(), pixels.width()));
        assertArrayEquals(new byte[pixels.values().length], pixels.values(), "black");
        DistilleryException refused = assertThrows(DistilleryException.class, () -> ImageDecoder.decode(png, 64 * 32 - 1));
        assertEquals(DistilleryException.Kind.RESOURCE_EXHAUSTED, refused.kind());
    }
}
