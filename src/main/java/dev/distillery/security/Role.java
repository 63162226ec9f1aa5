package dev.distillery.security;

import java.util.Locale;

/**
 * What a caller's token allows. Each role includes the ones before it: {@code admin ⊇ train ⊇ predict}, so a
 * train token may also predict and an admin token may call everything.
 */
public enum Role {
    /** Predictions: the Prediction service and the Open Inference Protocol, except loading and unloading. */
    PREDICT,
    /** Training jobs, evaluation, and reading models (list, get, download). */
    TRAIN,
    /** Everything, including uploads, deletes, cancelling jobs, and loading and unloading models. */
    ADMIN;

    /** Whether a caller holding this role may call what {@code required} guards. */
    public boolean includes(Role required) {
        return compareTo(required) >= 0;
    }

    /** The role's name in messages and the name of its token file: {@code predict}, {@code train}, {@code admin}. */
    public String fileName() {
        return name().toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return fileName();
    }
}
