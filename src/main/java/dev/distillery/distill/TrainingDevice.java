package dev.distillery.distill;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.distillery.error.DistilleryException;
import java.util.Locale;
import org.jboss.logging.Logger;

/** Where a student trains: a recipe's {@code device} ("auto", "cpu" or "gpu"). */
public enum TrainingDevice {
    /** The first GPU when the engine sees one, else the CPU. */
    AUTO,
    CPU,
    /** The first GPU; the CPU, with a warning, when there is none. */
    GPU;

    private static final Logger LOG = Logger.getLogger(TrainingDevice.class);

    /**
     * Parses a recipe's device name, case-insensitively; empty means {@link #AUTO}.
     *
     * @throws DistilleryException INVALID_ARGUMENT for any other name
     */
    public static TrainingDevice parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "", "auto" -> AUTO;
            case "cpu" -> CPU;
            case "gpu" -> GPU;
            default -> throw DistilleryException.invalid(
                    "device must be \"auto\", \"cpu\" or \"gpu\", got \"%s\"", name);
        };
    }

    /** The DJL device to train on, given the GPUs the engine reports now. */
    public Device resolve() {
        boolean hasGpu = this != CPU && Engine.getInstance().getGpuCount() > 0;
        if (this == GPU && !hasGpu) {
            LOG.warn("a GPU was requested but the engine sees none; training on the CPU");
        }
        return hasGpu ? Device.gpu() : Device.cpu();
    }
}
