package dev.distillery.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class OnnxRuntimeTest {

    @Test
    void cudaFallsBackToTheCpuWhereThereIsNone() {
        // The CPU build of ONNX Runtime has no CUDA provider: asking for it must still serve, on the CPU.
        // (On a CUDA build with a GPU this would say CUDA; no such machine has run it yet.)
        OnnxRuntime runtime = new OnnxRuntime("cuda", 1);
        assertEquals(System.getenv("DISTILLERY_EXPECT_CUDA") != null ? "CUDA" : "CPU", runtime.provider());
    }

    @Test
    void unknownProvidersAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new OnnxRuntime("tpu", 1));
    }
}
