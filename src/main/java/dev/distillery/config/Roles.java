package dev.distillery.config;

import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What this process does, from {@code distillery.roles}: {@code control} (Training, Models,
 * Evaluation, the job queue and records), {@code serve} (Prediction, the Open Inference Protocol), both
 * (the default: one process on a laptop), or {@code worker} alone (runs one job for control and exits).
 */
public record Roles(Set<Role> held) {

    public enum Role {
        CONTROL, SERVE, WORKER;

        /** Its name in configuration. */
        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public Roles {
        held = Set.copyOf(held);
    }

    /** Parses the setting; a bad value stops the start with a message naming the key. */
    public static Roles parse(List<String> names) {
        Set<Role> held = EnumSet.noneOf(Role.class);
        for (String name : names) {
            String key = name.trim().toLowerCase(Locale.ROOT);
            if (key.isEmpty()) {
                continue;
            }
            held.add(EnumSet.allOf(Role.class).stream().filter(role -> role.key().equals(key)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("distillery.roles (DISTILLERY_ROLES): unknown role '"
                            + name + "'; roles are control, serve (either or both) or worker (alone)")));
        }
        if (held.isEmpty()) {
            throw new IllegalArgumentException("distillery.roles (DISTILLERY_ROLES) is empty; give control, serve, "
                    + "control,serve or worker");
        }
        if (held.contains(Role.WORKER) && held.size() > 1) {
            throw new IllegalArgumentException("distillery.roles (DISTILLERY_ROLES): worker runs alone, not with "
                    + "control or serve; got " + names);
        }
        return new Roles(held);
    }

    public boolean holds(Role role) {
        return held.contains(role);
    }

    /** E.g. "control,serve". */
    @Override
    public String toString() {
        return held.stream().sorted().map(Role::key).collect(Collectors.joining(","));
    }
}
