package dev.distillery.model;

/** Expands an {@link ArchitectureSpec} into the layers of one catalogue architecture. */
public interface ArchitectureFactory {

    /**
     * Builds the network for inputs of shape (channels, height, width) and {@code classes} logits.
     * The catalogue has already checked that the name matches and that every size is positive.
     *
     * @throws dev.distillery.error.DistilleryException INVALID_ARGUMENT when the spec does not fit
     *     this architecture
     */
    Network build(ArchitectureSpec spec, int channels, int height, int width, int classes);
}
