package dev.distillery.model;

import dev.distillery.error.DistilleryException;

/**
 * The {@code width_multiplier} of resnet and mobilenetv2, which scales every channel count (each
 * architecture rounds the scaled counts its own way). Unset (0) means 1; the largest accepted is
 * {@value #MAX}, which already makes a resnet32 of about 7.4 M parameters and a mobilenetv2 of
 * about 34 M.
 */
final class WidthMultiplier {

    static final float MAX = 4;

    private WidthMultiplier() {}

    /** The multiplier {@code spec} asks for, 1 when unset. */
    static float of(ArchitectureSpec spec) {
        float multiplier = spec.widthMultiplier();
        if (multiplier == 0) {
            return 1;
        }
        if (!(multiplier > 0 && multiplier <= MAX)) {
            throw DistilleryException.invalid(
                    "%s: width_multiplier is %s; it must be in (0, %s], e.g. 0.5 for half the channels"
                            + " (0 or unset means 1)",
                    spec.name(), multiplier, MAX);
        }
        return multiplier;
    }
}
