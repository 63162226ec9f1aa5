package dev.distillery.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.error.DistilleryException;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelStoreTest {

    @TempDir
    Path root;

    private static ModelRef ref(String name, long version) {
        return ModelRef.newBuilder().setName(name).setVersion(version).build();
    }

    private static ModelInfo card(long parameters) {
        return ModelInfo.newBuilder().setParameters(parameters).addLabels("a").addLabels("b")
                .addInputShape(1).addInputShape(2).addInputShape(2).build();
    }

    @Test
    void versionsAreIntegersInTritonLayout() throws Exception {
        ModelStore store = new ModelStore(root);
        byte[] first = {1, 2, 3};
        ModelInfo v1 = store.add("student", first, card(10));
        ModelInfo v2 = store.add("student", new byte[] {4}, card(20));

        assertEquals(1, v1.getVersion());
        assertEquals(2, v2.getVersion());
        assertEquals(List.of(1L, 2L), v2.getVersionsList());
        assertArrayEquals(first, Files.readAllBytes(root.resolve("student/1/model.onnx")));
        String json = Files.readString(root.resolve("student/1/model.json"), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"sha256\": \"039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81\""), json);
        assertTrue(json.contains("\"input_shape\""), "snake_case field names: " + json);
    }

    @Test
    void versionZeroIsTheNewest() {
        ModelStore store = new ModelStore(root);
        store.add("m", new byte[] {1}, card(1));
        store.add("m", new byte[] {2}, card(2));
        assertEquals(2, store.get(ref("m", 0)).getVersion());
        assertEquals(1, store.get(ref("m", 1)).getParameters());
        assertEquals(1, store.list().size());
        assertEquals(2, store.list().get(0).getVersion());
    }

    @Test
    void unknownModelsAndVersionsAreNotFound() {
        ModelStore store = new ModelStore(root);
        store.add("m", new byte[] {1}, card(1));
        DistilleryException noModel = assertThrows(DistilleryException.class, () -> store.get(ref("other", 0)));
        assertEquals(DistilleryException.Kind.NOT_FOUND, noModel.kind());
        assertTrue(noModel.getMessage().contains("[m]"), noModel.getMessage());
        DistilleryException noVersion = assertThrows(DistilleryException.class, () -> store.get(ref("m", 7)));
        assertEquals(DistilleryException.Kind.NOT_FOUND, noVersion.kind());
    }

    @Test
    void unsafeNamesAreRejected() {
        ModelStore store = new ModelStore(root);
        for (String name : new String[] {"../evil", "a/b", "", ".hidden", "x".repeat(65)}) {
            DistilleryException e = assertThrows(DistilleryException.class, () -> store.add(name, new byte[] {1}, card(1)));
            assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, e.kind(), name);
        }
        assertFalse(Files.exists(root.resolve("evil")));
    }

    @Test
    void halfWrittenVersionsAreInvisible() throws Exception {
        ModelStore store = new ModelStore(root);
        store.add("m", new byte[] {1}, card(1));
        // A crash between the two files of a version, or a leftover temporary folder, must not surface.
        Files.createDirectories(root.resolve("m/2"));
        Files.write(root.resolve("m/2/model.onnx"), new byte[] {9});
        Files.createDirectories(root.resolve(".tmp-123/x"));
        assertEquals(1, store.get(ref("m", 0)).getVersion());
        assertEquals(List.of("m"), store.list().stream().map(ModelInfo::getName).toList());
        assertEquals(3, store.add("m", new byte[] {3}, card(3)).getVersion(), "the half-written folder is left alone");
        assertEquals(List.of(1L, 3L), store.get(ref("m", 0)).getVersionsList());
    }

    @Test
    void anUploadedFileIsMovedInNotCopied() throws Exception {
        ModelStore store = new ModelStore(root);
        Path staged = store.newStagingFile();
        Files.write(staged, new byte[] {1, 2, 3});
        assertTrue(store.list().isEmpty(), "a staging file is not a model");

        ModelInfo stored = store.add("uploaded", staged, card(7));

        assertFalse(Files.exists(staged), "the store took the file");
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(root.resolve("uploaded/1/model.onnx")));
        assertEquals("039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81", stored.getSha256());
        assertEquals(stored, store.get(ref("uploaded", 1)));
    }

    @Test
    void aFailedAddLeavesNoFileBehind() throws Exception {
        ModelStore store = new ModelStore(root);
        Path staged = store.newStagingFile();
        assertThrows(DistilleryException.class, () -> store.add("../evil", staged, card(1)));
        assertFalse(Files.exists(staged));
        try (var entries = Files.list(root)) {
            assertEquals(0, entries.count());
        }
    }

    @Test
    void deletedVersionsAreGoneAndTheirNumbersAreNeverReused() throws Exception {
        ModelStore store = new ModelStore(root);
        for (int i = 1; i <= 3; i++) {
            store.add("m", new byte[] {(byte) i}, card(i));
        }
        assertEquals(List.of(3L), store.delete(ref("m", 3)));
        assertEquals(List.of(1L, 2L), store.get(ref("m", 0)).getVersionsList());
        assertEquals(4, store.add("m", new byte[] {4}, card(4)).getVersion());

        assertEquals(List.of(1L, 2L, 4L), store.delete(ref("m", 0)));
        DistilleryException gone = assertThrows(DistilleryException.class, () -> store.get(ref("m", 0)));
        assertEquals(DistilleryException.Kind.NOT_FOUND, gone.kind());
        assertTrue(gone.getMessage().contains("known models: []"), gone.getMessage());
        assertTrue(store.list().isEmpty());
        assertEquals(5, store.add("m", new byte[] {5}, card(5)).getVersion());
        try (var entries = Files.list(root)) {
            assertEquals(List.of("m"), entries.map(p -> p.getFileName().toString()).toList(), "nothing left over");
        }
    }

    @Test
    void deletingWhatIsNotThereIsNotFound() {
        ModelStore store = new ModelStore(root);
        store.add("m", new byte[] {1}, card(1));
        assertEquals(DistilleryException.Kind.NOT_FOUND,
                assertThrows(DistilleryException.class, () -> store.delete(ref("other", 0))).kind());
        assertEquals(DistilleryException.Kind.NOT_FOUND,
                assertThrows(DistilleryException.class, () -> store.delete(ref("m", 2))).kind());
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT,
                assertThrows(DistilleryException.class, () -> store.delete(ref("../m", 0))).kind());
        assertEquals(List.of(1L), store.get(ref("m", 0)).getVersionsList());
    }
}
