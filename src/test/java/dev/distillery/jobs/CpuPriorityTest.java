package dev.distillery.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CpuPriorityTest {

    @Test
    void eachPriorityIsACommandBeforeTheWorkersOwn() {
        assertEquals(List.of("/usr/bin/chrt", "--idle", "0"), CpuPriority.parse("idle").command());
        assertEquals(List.of("/usr/bin/nice", "-n", "19"), CpuPriority.parse(" Low ").command());
        assertEquals(List.of(), CpuPriority.parse("normal").command());
    }

    @Test
    void belowNormalTheWorkersOpenMpThreadsSleepInsteadOfSpinning() {
        assertEquals(Map.of("OMP_WAIT_POLICY", "PASSIVE"), CpuPriority.parse("idle").environment());
        assertEquals(Map.of("OMP_WAIT_POLICY", "PASSIVE"), CpuPriority.parse("low").environment());
        assertEquals(Map.of(), CpuPriority.parse("normal").environment());
    }

    @Test
    void anUnknownValueIsRefusedWithTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CpuPriority.parse("high"));
        assertTrue(e.getMessage().equals("distillery.jobs.worker-cpu-priority (DISTILLERY_WORKER_CPU_PRIORITY): unknown "
                + "value 'high'; use idle, low or normal"), e.getMessage());
    }
}
