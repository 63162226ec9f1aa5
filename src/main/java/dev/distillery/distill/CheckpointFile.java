package dev.distillery.distill;

import dev.distillery.distill.optim.ResumableOptimizer.ParameterState;
import dev.distillery.error.DistilleryException;
import dev.distillery.v1.TrialResult;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A job's checkpoint: one file, {@code checkpoint.bin} in the job's work folder, replaced after every
 * epoch. Each version is written to a temporary file, forced to disk and moved over the previous one
 * atomically, so a server killed at any moment leaves the old checkpoint or the new one, never part
 * of one.
 *
 * <p>The format is private to this class (Java {@code DataOutput}, big-endian): a magic number, the
 * finished settings as serialized {@link TrialResult}s, the best one's statistics and ONNX bytes, and
 * the setting under way: its epoch, history, parameters, optimizer state and best epoch, floats
 * written bit for bit so that nothing is rounded.
 */
public final class CheckpointFile {

    private static final String NAME = "checkpoint.bin";
    /** "DCK1": Distillery checkpoint, format 1. */
    private static final int MAGIC = 0x44434b31;

    private final Path file;

    /** @param directory the job's work folder; created on the first save */
    public CheckpointFile(Path directory) {
        this.file = directory.resolve(NAME);
    }

    public Path file() {
        return file;
    }

    /**
     * The last checkpoint saved, if any.
     *
     * @throws DistilleryException FAILED_PRECONDITION when the file is not a checkpoint of this format
     */
    public Optional<SweepProgress> load() {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            if (in.readInt() != MAGIC) {
                throw DistilleryException.precondition("%s is not a checkpoint of this server's format", file);
            }
            return Optional.of(readProgress(in));
        } catch (IOException e) {
            throw new DistilleryException(DistilleryException.Kind.FAILED_PRECONDITION,
                    "checkpoint " + file + " cannot be read: " + e.getMessage(), e);
        }
    }

    /** Replaces the checkpoint with {@code progress}, atomically. */
    public void save(SweepProgress progress) {
        try {
            Files.createDirectories(file.getParent());
            Path temporary = file.resolveSibling(NAME + ".tmp");
            try (FileOutputStream stream = new FileOutputStream(temporary.toFile());
                    DataOutputStream out = new DataOutputStream(new BufferedOutputStream(stream))) {
                out.writeInt(MAGIC);
                writeProgress(out, progress);
                out.flush();
                stream.getFD().sync();
            }
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + file, e);
        }
    }

    private static void writeProgress(DataOutputStream out, SweepProgress progress) throws IOException {
        out.writeInt(progress.trials().size());
        for (TrialResult trial : progress.trials()) {
            writeBytes(out, trial.toByteArray());
        }
        out.writeInt(progress.bestTrial());
        if (progress.best() != null) {
            writeStats(out, progress.best().best());
            out.writeInt(progress.best().epochsRun());
            out.writeBoolean(progress.best().earlyStopped());
            writeBytes(out, progress.best().onnx());
        }
        out.writeBoolean(progress.current() != null);
        if (progress.current() != null) {
            writeState(out, progress.current());
        }
    }

    private static SweepProgress readProgress(DataInputStream in) throws IOException {
        List<TrialResult> trials = new ArrayList<>();
        for (int i = in.readInt(); i > 0; i--) {
            trials.add(TrialResult.parseFrom(readBytes(in)));
        }
        int bestTrial = in.readInt();
        TrialOutcome best = bestTrial < 0 ? null
                : new TrialOutcome(readStats(in), in.readInt(), in.readBoolean(), readBytes(in));
        TrainerState current = in.readBoolean() ? readState(in) : null;
        return new SweepProgress(trials, bestTrial, best, current);
    }

    private static void writeState(DataOutputStream out, TrainerState state) throws IOException {
        out.writeInt(state.epoch());
        out.writeInt(state.history().size());
        for (EpochStats stats : state.history()) {
            writeStats(out, stats);
        }
        writeSnapshot(out, state.parameters());
        out.writeInt(state.optimizer().size());
        for (Map.Entry<String, ParameterState> entry : state.optimizer().entrySet()) {
            out.writeUTF(entry.getKey());
            out.writeLong(entry.getValue().steps());
            out.writeInt(entry.getValue().slots().size());
            for (float[] slot : entry.getValue().slots()) {
                writeFloats(out, slot);
            }
        }
        out.writeInt(state.best().epoch());
        out.writeDouble(state.best().accuracy());
        writeSnapshot(out, state.best().parameters());
    }

    private static TrainerState readState(DataInputStream in) throws IOException {
        int epoch = in.readInt();
        List<EpochStats> history = new ArrayList<>();
        for (int i = in.readInt(); i > 0; i--) {
            history.add(readStats(in));
        }
        ParameterSnapshot parameters = readSnapshot(in);
        Map<String, ParameterState> optimizer = new LinkedHashMap<>();
        for (int i = in.readInt(); i > 0; i--) {
            String name = in.readUTF();
            long steps = in.readLong();
            List<float[]> slots = new ArrayList<>();
            for (int s = in.readInt(); s > 0; s--) {
                slots.add(readFloats(in));
            }
            optimizer.put(name, new ParameterState(steps, slots));
        }
        BestEpoch.Best best = new BestEpoch.Best(in.readInt(), in.readDouble(), readSnapshot(in));
        return new TrainerState(epoch, history, parameters, optimizer, best);
    }

    private static void writeStats(DataOutputStream out, EpochStats stats) throws IOException {
        out.writeInt(stats.epoch());
        out.writeInt(stats.epochs());
        out.writeDouble(stats.meanLoss());
        out.writeDouble(stats.validationAccuracy());
        out.writeDouble(stats.learningRate());
        out.writeDouble(stats.imagesPerSecond());
        out.writeDouble(stats.etaSeconds());
    }

    private static EpochStats readStats(DataInputStream in) throws IOException {
        return new EpochStats(in.readInt(), in.readInt(), in.readDouble(), in.readDouble(), in.readDouble(),
                in.readDouble(), in.readDouble());
    }

    private static void writeSnapshot(DataOutputStream out, ParameterSnapshot snapshot) throws IOException {
        out.writeInt(snapshot.values().size());
        for (Map.Entry<String, float[]> entry : snapshot.values().entrySet()) {
            out.writeUTF(entry.getKey());
            writeFloats(out, entry.getValue());
        }
    }

    private static ParameterSnapshot readSnapshot(DataInputStream in) throws IOException {
        Map<String, float[]> values = new LinkedHashMap<>();
        for (int i = in.readInt(); i > 0; i--) {
            values.put(in.readUTF(), readFloats(in));
        }
        return new ParameterSnapshot(values);
    }

    private static void writeFloats(DataOutputStream out, float[] values) throws IOException {
        out.writeInt(values.length);
        for (float value : values) {
            out.writeInt(Float.floatToRawIntBits(value));
        }
    }

    private static float[] readFloats(DataInputStream in) throws IOException {
        float[] values = new float[in.readInt()];
        for (int i = 0; i < values.length; i++) {
            values[i] = Float.intBitsToFloat(in.readInt());
        }
        return values;
    }

    private static void writeBytes(DataOutputStream out, byte[] bytes) throws IOException {
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        return bytes;
    }
}
