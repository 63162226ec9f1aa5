package dev.distillery.data;

/** The images of one source followed by those of another. */
final class JoinedImages implements ImageSource {

    private final ImageSource first;
    private final ImageSource second;

    JoinedImages(ImageSource first, ImageSource second) {
        this.first = first;
        this.second = second;
    }

    @Override
    public int count() {
        return first.count() + second.count();
    }

    @Override
    public int label(int index) {
        return index < first.count() ? first.label(index) : second.label(index - first.count());
    }

    @Override
    public Pixels image(int index) {
        return index < first.count() ? first.image(index) : second.image(index - first.count());
    }

    @Override
    public ImageShape shape() {
        return first.shape().union(second.shape());
    }

    @Override
    public boolean inMemory() {
        return first.inMemory() && second.inMemory();
    }
}
