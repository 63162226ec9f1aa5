package dev.distillery.serve;

import dev.distillery.store.ModelStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Optional;

/**
 * How a stored version's model.onnx and model.json look from outside: size, modification time and, where
 * the file system has one, the file's identity (the inode). Two looks that differ mean the version was
 * replaced; comparing them reads no file, so the store can be checked often. What a file holds is checked
 * by its sha256 when it is loaded ({@link ModelStore#readModel}).
 */
record VersionFiles(Look onnx, Look card) {

    /** One file's size, modification time and identity ({@code null} where the file system has none). */
    record Look(long size, FileTime modified, Object key) {}

    /** The version's files as they are now; empty when either is missing (deleted, or not written yet). */
    static Optional<VersionFiles> of(ModelStore store, String name, long version) {
        try {
            return Optional.of(new VersionFiles(look(store.modelFile(name, version)), look(store.cardFile(name, version))));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the attributes of model " + name + " version " + version, e);
        }
    }

    private static Look look(Path file) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        return new Look(attributes.size(), attributes.lastModifiedTime(), attributes.fileKey());
    }
}
