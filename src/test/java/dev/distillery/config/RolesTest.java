package dev.distillery.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.config.Roles.Role;
import java.util.List;
import org.junit.jupiter.api.Test;

class RolesTest {

    @Test
    void controlAndServeGoTogetherOrAlone() {
        Roles both = Roles.parse(List.of("control", " Serve "));
        assertTrue(both.holds(Role.CONTROL) && both.holds(Role.SERVE));
        assertFalse(both.holds(Role.WORKER));
        assertEquals("control,serve", both.toString());
        assertEquals("serve", Roles.parse(List.of("serve")).toString());
        assertTrue(Roles.parse(List.of("worker")).holds(Role.WORKER));
    }

    @Test
    void aBadSettingStopsTheStartNamingTheKey() {
        for (List<String> bad : List.of(List.of("worker", "serve"), List.of("trainer"), List.of(" "))) {
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> Roles.parse(bad));
            assertTrue(error.getMessage().startsWith("distillery.roles (DISTILLERY_ROLES)"), error.getMessage());
        }
    }
}
