package dev.distillery.serve;

import com.google.protobuf.ByteString;
import dev.distillery.error.DistilleryException;
import dev.distillery.jobs.JobManager;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.UploadHeader;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Adds models made elsewhere and deletes models, keeping the store, the open sessions and the job
 * queue in step: an upload is written to a staging file as it arrives, checked by
 * {@link OnnxModelCheck}, moved into the store as the next version and loaded for serving; a delete
 * is refused while a queued or running job names the model, and closes the deleted versions'
 * sessions.
 */
public final class ModelRepository {

    private final ModelStore store;
    private final ModelSessions sessions;
    private final OnnxModelCheck check;
    private final JobManager jobs;

    public ModelRepository(ModelStore store, ModelSessions sessions, OnnxModelCheck check, JobManager jobs) {
        this.store = store;
        this.sessions = sessions;
        this.check = check;
        this.jobs = jobs;
    }

    /** Checks the header and opens a staging file for the chunks that follow it. */
    public Upload startUpload(UploadHeader header) {
        check.checkHeader(header);
        return new Upload(header, store.newStagingFile());
    }

    /**
     * Deletes one version, or all when the reference's version is 0, and returns the versions
     * deleted. FAILED_PRECONDITION while a queued or running job names the model as its teacher or
     * its output.
     */
    public List<Long> delete(ModelRef ref) {
        store.get(ref);
        List<String> users = jobs.jobsUsing(ref.getName());
        if (!users.isEmpty()) {
            throw DistilleryException.precondition(
                    "model '%s' is in use by queued or running job(s) %s, as teacher or output_model: "
                            + "wait for them to end or cancel them, then delete it", ref.getName(), users);
        }
        List<Long> deleted = store.delete(ref);
        sessions.forget(ref.getName(), deleted);
        return deleted;
    }

    /**
     * One upload in progress: chunks go straight to a staging file in the store, never all into
     * memory. Close it in every case; after {@link #finish} that only releases what is left.
     */
    public final class Upload implements AutoCloseable {

        private final UploadHeader header;
        private final Path staged;
        private final OutputStream out;
        private long size;

        private Upload(UploadHeader header, Path staged) {
            this.header = header;
            this.staged = staged;
            try {
                this.out = Files.newOutputStream(staged);
            } catch (IOException e) {
                deleteStaged();
                throw new UncheckedIOException("cannot write the staging file " + staged, e);
            }
        }

        /** Appends the next piece of the file; RESOURCE_EXHAUSTED once the file passes the size limit. */
        public void append(ByteString chunk) {
            check.checkSize(size + chunk.size());
            try {
                chunk.writeTo(out);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the staging file " + staged, e);
            }
            size += chunk.size();
        }

        /** Checks the whole file, stores it as the next version and loads it for serving; returns its card. */
        public ModelInfo finish() {
            try {
                out.close();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the staging file " + staged, e);
            }
            ModelInfo stored = store.add(header.getName(), staged, check.check(staged, header));
            sessions.publish(stored);
            return stored;
        }

        /** Drops the staging file, if it is still there (it is not once the store has taken it). */
        @Override
        public void close() {
            try {
                out.close();
            } catch (IOException ignored) {
                // The file is deleted next; what it held no longer matters.
            }
            deleteStaged();
        }

        private void deleteStaged() {
            try {
                Files.deleteIfExists(staged);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete the staging file " + staged, e);
            }
        }
    }
}
