package dev.distillery.data;

/**
 * A view of some images of another source, in a given order and with labels of its own. Its shape is the
 * whole source's: a selection of a folder of mixed sizes counts as mixed.
 */
final class SelectedImages implements ImageSource {

    private final ImageSource base;
    private final int[] indices;
    private final int[] labels;

    SelectedImages(ImageSource base, int[] indices, int[] labels) {
        if (indices.length != labels.length) {
            throw new IllegalArgumentException(indices.length + " images but " + labels.length + " labels");
        }
        this.base = base;
        this.indices = indices.clone();
        this.labels = labels.clone();
    }

    @Override
    public int count() {
        return indices.length;
    }

    @Override
    public int label(int index) {
        return labels[index];
    }

    @Override
    public Pixels image(int index) {
        return base.image(indices[index]);
    }

    @Override
    public ImageShape shape() {
        return base.shape();
    }

    @Override
    public boolean inMemory() {
        return base.inMemory();
    }
}
