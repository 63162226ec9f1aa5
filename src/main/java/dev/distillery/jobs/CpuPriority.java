package dev.distillery.jobs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How a worker process shares the CPU with the serving process that started it, as a command put before the
 * worker's own ({@code distillery.jobs.worker-cpu-priority}):
 * <ul>
 *   <li>{@code idle}: Linux's {@code SCHED_IDLE} ({@code chrt --idle 0}), the worker runs only on cores nothing
 *       else wants: serving is not slowed, and training takes every cycle serving leaves;
 *   <li>{@code low}: {@code nice -n 19}, the lowest nice value: on a contended core the worker weighs 15 against
 *       serving's 1024;
 *   <li>{@code normal}: the server's own priority.
 * </ul>
 * Below {@code normal}, the worker's OpenMP threads also sleep while they wait for work
 * ({@code OMP_WAIT_POLICY=PASSIVE}): libgomp's default spins up to 300,000 times after each parallel region, and
 * DJL calls libtorch's operators one at a time, so a waiting thread would hold its core between them.
 */
public enum CpuPriority {
    IDLE(List.of("/usr/bin/chrt", "--idle", "0"), Map.of("OMP_WAIT_POLICY", "PASSIVE")),
    LOW(List.of("/usr/bin/nice", "-n", "19"), Map.of("OMP_WAIT_POLICY", "PASSIVE")),
    NORMAL(List.of(), Map.of());

    private final List<String> command;
    private final Map<String, String> environment;

    CpuPriority(List<String> command, Map<String, String> environment) {
        this.command = command;
        this.environment = environment;
    }

    /** The command that starts a worker at this priority, before the worker's own. */
    List<String> command() {
        return command;
    }

    /** The environment a worker gets at this priority, where its parent's environment does not say otherwise. */
    Map<String, String> environment() {
        return environment;
    }

    /**
     * Parses the setting.
     *
     * @throws IllegalArgumentException for an unknown value, or one whose tool this machine lacks
     */
    public static CpuPriority parse(String value) {
        CpuPriority priority;
        try {
            priority = valueOf(value.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("distillery.jobs.worker-cpu-priority (DISTILLERY_WORKER_CPU_PRIORITY): "
                    + "unknown value '" + value + "'; use idle, low or normal", e);
        }
        if (!priority.command.isEmpty() && !Files.isExecutable(Path.of(priority.command.get(0)))) {
            throw new IllegalArgumentException("distillery.jobs.worker-cpu-priority (DISTILLERY_WORKER_CPU_PRIORITY) is "
                    + value + " but " + priority.command.get(0) + " is missing: install it (util-linux, coreutils) or "
                    + "choose normal");
        }
        return priority;
    }
}
