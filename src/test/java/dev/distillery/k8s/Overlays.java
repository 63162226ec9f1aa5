package dev.distillery.k8s;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The k8s/ overlays as {@code kubectl kustomize} renders them, offline, each object as the plain maps its YAML
 * holds. Rendered once per overlay and test JVM.
 */
final class Overlays {

    /** Every overlay under k8s/overlays; a new overlay must be added here to be checked. */
    static final List<String> ALL = List.of("single", "cluster", "gpu", "kserve");

    /** The oldest kustomize that renders these overlays (configMapGenerator envs, labels, patch targets). */
    private static final int KUSTOMIZE_MAJOR = 5;

    private static final Path ROOT = Path.of("k8s", "overlays");
    private static final Map<String, List<Map<String, Object>>> RENDERED = new ConcurrentHashMap<>();

    private Overlays() {
    }

    static List<Map<String, Object>> render(String overlay) {
        return RENDERED.computeIfAbsent(overlay, Overlays::kustomize);
    }

    /** The overlay's objects of one kind. */
    static List<Map<String, Object>> objects(String overlay, String kind) {
        return render(overlay).stream().filter(o -> kind.equals(o.get("kind"))).toList();
    }

    /** The folder of each overlay present, so that one added without a line in {@link #ALL} is noticed. */
    static List<String> onDisk() throws IOException {
        try (var folders = Files.list(ROOT)) {
            return folders.filter(f -> Files.exists(f.resolve("kustomization.yaml")))
                    .map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> kustomize(String overlay) {
        checkKubectl();
        String yaml = run("kubectl", "kustomize", ROOT.resolve(overlay).toString());
        List<Map<String, Object>> objects = new ArrayList<>();
        for (Object document : new Load(LoadSettings.builder().build()).loadAllFromString(yaml)) {
            if (document != null) {
                objects.add((Map<String, Object>) document);
            }
        }
        return objects;
    }

    /** Fails with what to install when kubectl is missing or its kustomize is too old for the overlays. */
    private static void checkKubectl() {
        String version;
        try {
            version = run("kubectl", "version", "--client");
        } catch (IllegalStateException e) {
            throw new AssertionError("the k8s/ checks render every overlay with `kubectl kustomize`, and " + e.getMessage()
                    + ". Install kubectl (1.27 or newer, with kustomize v" + KUSTOMIZE_MAJOR
                    + "); ./distillery test installs Debian's when it is missing", e);
        }
        Matcher kustomize = Pattern.compile("Kustomize Version: v(\\d+)").matcher(version);
        if (!kustomize.find() || Integer.parseInt(kustomize.group(1)) < KUSTOMIZE_MAJOR) {
            throw new AssertionError("the k8s/ overlays need kustomize v" + KUSTOMIZE_MAJOR + " (kubectl 1.27 or newer), but "
                    + "`kubectl version --client` says:\n" + version);
        }
    }

    private static String run(String... command) {
        Path errors = null;
        try {
            // stderr to a file, so that neither pipe can fill while the other is read.
            errors = Files.createTempFile("kubectl", ".err");
            Process process = new ProcessBuilder(command).redirectError(errors.toFile()).start();
            process.getOutputStream().close();
            String out;
            try (var stdout = process.getInputStream()) {
                out = new String(stdout.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish in 60 s");
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed (exit " + process.exitValue() + "): "
                        + Files.readString(errors).strip());
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("`" + command[0] + "` could not be run (" + e.getMessage() + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command[0], e);
        } finally {
            if (errors != null) {
                errors.toFile().delete();
            }
        }
    }
}
