package dev.distillery.data;

/**
 * The size and colour of a dataset's images, as its files give them.
 *
 * @param channels 1 when every image is gray, else 3
 * @param height rows of every image; 0 when the images differ in size
 * @param width columns of every image; 0 when the images differ in size
 */
public record ImageShape(int channels, int height, int width) {

    /** True when every image has the same height and width. */
    public boolean uniformSize() {
        return height > 0 && width > 0;
    }

    /** The shape of a collection holding images of this shape and of {@code other}'s. */
    public ImageShape union(ImageShape other) {
        boolean same = height == other.height && width == other.width;
        return new ImageShape(Math.max(channels, other.channels), same ? height : 0, same ? width : 0);
    }

    @Override
    public String toString() {
        return uniformSize() ? channels + "x" + height + "x" + width : channels + " channels, mixed sizes";
    }
}
