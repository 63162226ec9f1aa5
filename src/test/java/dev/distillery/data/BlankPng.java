package dev.distillery.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;

/**
 * A black 1-bit gray PNG of any size, written chunk by chunk without an image in memory: a
 * 20,000 x 20,000 one is about 50 KB, yet decodes to 400 million pixels (a decompression bomb).
 */
public final class BlankPng {

    private BlankPng() {}

    public static byte[] of(int width, int height) throws IOException {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        // Width, height, bit depth 1, colour type 0 (gray), deflate, no filter method choice, no interlace.
        chunk(png, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put(new byte[] {1, 0, 0, 0, 0}).array());
        ByteArrayOutputStream pixels = new ByteArrayOutputStream();
        try (OutputStream rows = new DeflaterOutputStream(pixels, new Deflater(Deflater.BEST_COMPRESSION), 1 << 16)) {
            byte[] row = new byte[1 + (width + 7) / 8]; // filter byte 0, then the row's bits, all 0
            for (int y = 0; y < height; y++) {
                rows.write(row);
            }
        }
        chunk(png, "IDAT", pixels.toByteArray());
        chunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream png, String type, byte[] data) throws IOException {
        byte[] name = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(name);
        crc.update(data);
        png.write(ByteBuffer.allocate(4).putInt(data.length).array());
        png.write(name);
        png.write(data);
        png.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}
