package dev.distillery.data;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * Images read from files on demand: only the listing (paths and labels) is held in memory, and each
 * {@link #image} call reads and decodes one file. The shape comes from the files' headers, read once
 * when first asked for.
 */
public final class ImageFiles implements ImageSource {

    private final List<Path> files;
    private final int[] labels;
    private final Function<Path, Pixels> decoder;
    private final Function<Path, ImageShape> header;
    private volatile ImageShape shape;

    /** Files decoded by {@link ImageDecoder}. */
    public ImageFiles(List<Path> files, int[] labels) {
        this(files, labels, ImageDecoder::read, ImageDecoder::header);
    }

    /**
     * @param decoder reads one file's pixels
     * @param header reads one file's shape without decoding it
     */
    public ImageFiles(List<Path> files, int[] labels, Function<Path, Pixels> decoder,
            Function<Path, ImageShape> header) {
        if (files.size() != labels.length) {
            throw new IllegalArgumentException(files.size() + " files but " + labels.length + " labels");
        }
        this.files = List.copyOf(files);
        this.labels = labels.clone();
        this.decoder = decoder;
        this.header = header;
    }

    /** The file of image {@code index}. */
    public Path file(int index) {
        return files.get(index);
    }

    @Override
    public int count() {
        return files.size();
    }

    @Override
    public int label(int index) {
        return labels[index];
    }

    @Override
    public Pixels image(int index) {
        return decoder.apply(files.get(index));
    }

    /** Reads every file's header the first time: one pass over the folder, no pixel decoded. */
    @Override
    public ImageShape shape() {
        ImageShape known = shape;
        if (known == null) {
            if (files.isEmpty()) {
                throw new IllegalStateException("no images, so no shape");
            }
            known = header.apply(files.get(0));
            for (int i = 1; i < files.size(); i++) {
                known = known.union(header.apply(files.get(i)));
            }
            shape = known;
        }
        return known;
    }

    @Override
    public boolean inMemory() {
        return false;
    }
}
