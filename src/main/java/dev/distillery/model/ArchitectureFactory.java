package dev.distillery.model;

import java.util.List;

/** Expands an {@link ArchitectureSpec} into the layers of one catalogue architecture. */
public interface ArchitectureFactory {

    /**
     * The spec settings this architecture reads, by their proto field names (see
     * {@link ArchitectureSpec#settings()}); the catalogue rejects a spec that gives any other.
     */
    List<String> settings();

    /**
     * Builds the network for inputs of shape (channels, height, width) and {@code classes} logits.
     * The catalogue has already checked that the name matches, that every size is positive and
     * that the spec gives no setting outside {@link #settings()}.
     *
     * @throws dev.distillery.error.DistilleryException INVALID_ARGUMENT when the spec does not fit
     *     this architecture
     */
    Network build(ArchitectureSpec spec, int channels, int height, int width, int classes);
}
