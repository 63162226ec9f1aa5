package dev.distillery.serve;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Which of a model's stored versions are served, as Triton's {@code version_policy}: the newest N, pinned
 * versions, or all of them. With the stored versions {@code S} (ascending):
 * {@code latest:N} serves the N highest of S, {@code specific:V1,V2,...} serves S ∩ {V1, V2, ...},
 * {@code all} serves S.
 */
public sealed interface VersionPolicy {

    /** What a model is served with unless configured otherwise: its newest version only. */
    VersionPolicy DEFAULT = new Latest(1);

    /** The versions to serve among {@code stored}, both ascending. */
    List<Long> select(List<Long> stored);

    /** The newest {@code count} versions. */
    record Latest(int count) implements VersionPolicy {
        public Latest {
            if (count < 1) {
                throw new IllegalArgumentException("latest:N needs N >= 1, got " + count);
            }
        }

        @Override
        public List<Long> select(List<Long> stored) {
            return stored.subList(Math.max(0, stored.size() - count), stored.size());
        }

        @Override
        public String toString() {
            return "latest:" + count;
        }
    }

    /** The versions named, those of them that are stored. */
    record Specific(List<Long> versions) implements VersionPolicy {
        public Specific {
            if (versions.isEmpty() || versions.stream().anyMatch(version -> version < 1)) {
                throw new IllegalArgumentException("specific:V1,V2,... needs at least one version, each >= 1, got "
                        + versions);
            }
            versions = List.copyOf(new TreeSet<>(versions));
        }

        @Override
        public List<Long> select(List<Long> stored) {
            return stored.stream().filter(versions::contains).toList();
        }

        @Override
        public String toString() {
            return "specific:" + String.join(",", versions.stream().map(String::valueOf).toList());
        }
    }

    /** Every stored version. */
    record All() implements VersionPolicy {
        @Override
        public List<Long> select(List<Long> stored) {
            return stored;
        }

        @Override
        public String toString() {
            return "all";
        }
    }

    /**
     * Reads {@code latest:N} (N >= 1), {@code specific:V1,V2,...} (versions >= 1) or {@code all}.
     *
     * @throws IllegalArgumentException for anything else, saying what is accepted
     */
    static VersionPolicy parse(String text) {
        String[] parts = text.strip().toLowerCase(Locale.ROOT).split(":", 2);
        String argument = parts.length == 2 ? parts[1].strip() : null;
        try {
            VersionPolicy policy = switch (parts[0].strip()) {
                case "all" -> argument == null ? new All() : null;
                case "latest" -> argument == null ? null : new Latest(Integer.parseInt(argument));
                case "specific" -> argument == null ? null : new Specific(Arrays.stream(argument.split(",", -1))
                        .map(version -> Long.parseLong(version.strip())).toList());
                default -> null;
            };
            if (policy != null) {
                return policy;
            }
        } catch (IllegalArgumentException e) {
            // A number that is not one, or out of range: the message below says what is accepted.
        }
        throw new IllegalArgumentException("'" + text + "' is not a version policy: use latest:N (the N newest "
                + "versions, N >= 1), specific:V1,V2,... (those versions, each >= 1) or all");
    }
}
