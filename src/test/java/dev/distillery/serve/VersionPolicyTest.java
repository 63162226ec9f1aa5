package dev.distillery.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class VersionPolicyTest {

    private static final List<Long> STORED = List.of(1L, 2L, 5L, 7L);

    @Test
    void latestServesTheNewestN() {
        assertEquals(new VersionPolicy.Latest(2), VersionPolicy.parse("latest:2"));
        assertEquals(List.of(5L, 7L), VersionPolicy.parse("latest:2").select(STORED));
        assertEquals(List.of(7L), VersionPolicy.parse(" Latest : 1 ").select(STORED));
        assertEquals(STORED, VersionPolicy.parse("latest:10").select(STORED), "fewer stored than N: all of them");
        assertEquals(List.of(), VersionPolicy.parse("latest:3").select(List.of()));
    }

    @Test
    void specificServesThePinnedVersionsThatAreStored() {
        VersionPolicy pinned = VersionPolicy.parse("specific:7,1,3,1");
        assertEquals(new VersionPolicy.Specific(List.of(1L, 3L, 7L)), pinned);
        assertEquals(List.of(1L, 7L), pinned.select(STORED), "3 is not stored");
        assertEquals("specific:1,3,7", pinned.toString());
        assertEquals(List.of(2L), VersionPolicy.parse("specific: 2").select(STORED));
    }

    @Test
    void allServesEveryStoredVersion() {
        assertEquals(new VersionPolicy.All(), VersionPolicy.parse("ALL"));
        assertEquals(STORED, VersionPolicy.parse("all").select(STORED));
    }

    @Test
    void theDefaultIsTheNewestVersionOnly() {
        assertEquals(List.of(7L), VersionPolicy.DEFAULT.select(STORED));
        assertEquals("latest:1", VersionPolicy.DEFAULT.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "latest", "latest:", "latest:0", "latest:-1", "latest:two", "latest:1,2",
            "specific", "specific:", "specific:0", "specific:1,,2", "specific:x", "all:3", "newest:1", "none"})
    void anythingElseIsRefusedSayingWhatIsAccepted(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VersionPolicy.parse(text));
        assertTrue(e.getMessage().startsWith("'" + text + "' is not a version policy"), e.getMessage());
        assertTrue(e.getMessage().contains("latest:N") && e.getMessage().contains("specific:V1,V2,...")
                && e.getMessage().contains("all"), e.getMessage());
    }

    @Test
    void policiesComeFromTheDefaultsAndPerModelOverrides() {
        VersionPolicies policies = VersionPolicies.parse(Optional.of("latest:2"), Map.of("teacher", "all"));
        assertEquals(new VersionPolicy.All(), policies.of("teacher"));
        assertEquals(new VersionPolicy.Latest(2), policies.of("student"));
        assertEquals(VersionPolicy.DEFAULT, VersionPolicies.parse(Optional.empty(), Map.of()).of("student"));
    }

    @Test
    void aBadConfiguredValueNamesItsKey() {
        IllegalArgumentException defaults = assertThrows(IllegalArgumentException.class,
                () -> VersionPolicies.parse(Optional.of("latest:0"), Map.of()));
        assertTrue(defaults.getMessage().startsWith("distillery.serving.defaults.versions: 'latest:0'"),
                defaults.getMessage());
        IllegalArgumentException model = assertThrows(IllegalArgumentException.class,
                () -> VersionPolicies.parse(Optional.empty(), Map.of("teacher.v2", "pinned:3")));
        assertTrue(model.getMessage().startsWith("distillery.serving.models.\"teacher.v2\".versions: 'pinned:3'"),
                model.getMessage());
    }
}
