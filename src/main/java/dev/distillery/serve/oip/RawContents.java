package dev.distillery.serve.oip;

import com.google.protobuf.ByteString;
import dev.distillery.error.DistilleryException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The protocol's raw tensor bytes ({@code raw_input_contents}, {@code raw_output_contents}): fixed-size
 * elements little-endian and row-major without padding; each BYTES element a 4-byte little-endian length
 * followed by that many bytes.
 */
final class RawContents {

    private RawContents() {}

    /** The {@code count} FP32 values of input {@code input}. */
    static float[] floats(ByteString raw, String input, long count) {
        if (raw.size() != count * Float.BYTES) {
            throw DistilleryException.invalid(
                    "raw_input_contents of input '%s' holds %d bytes; its shape needs %d FP32 values, %d bytes",
                    input, raw.size(), count, count * Float.BYTES);
        }
        float[] values = new float[(int) count];
        raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        return values;
    }

    static ByteString floats(float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        return ByteString.copyFrom(bytes.array());
    }

    /** The BYTES elements of input {@code input}, each as its length-prefixed bytes say. */
    static List<ByteString> elements(ByteString raw, String input) {
        ByteBuffer bytes = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        List<ByteString> elements = new ArrayList<>();
        while (bytes.hasRemaining()) {
            if (bytes.remaining() < Integer.BYTES) {
                throw DistilleryException.invalid("raw_input_contents of input '%s' ends inside the 4-byte length of "
                        + "element %d: each BYTES element is a 4-byte little-endian length, then the bytes",
                        input, elements.size());
            }
            int length = bytes.getInt();
            if (length < 0 || length > bytes.remaining()) {
                throw DistilleryException.invalid("raw_input_contents of input '%s': element %d says %d bytes but %d "
                        + "are left", input, elements.size(), Integer.toUnsignedLong(length), bytes.remaining());
            }
            int start = bytes.position();
            elements.add(raw.substring(start, start + length));
            bytes.position(start + length);
        }
        return elements;
    }

    static ByteString strings(List<String> values) {
        ByteString.Output out = ByteString.newOutput();
        ByteBuffer length = ByteBuffer.allocate(Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (String value : values) {
            byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
            out.write(length.putInt(0, utf8.length).array(), 0, Integer.BYTES);
            out.write(utf8, 0, utf8.length);
        }
        return out.toByteString();
    }
}
