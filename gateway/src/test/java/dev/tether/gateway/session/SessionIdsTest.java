package dev.tether.gateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SessionIdsTest {

    @Test
    void idsCarry128RandomBitsAsBase64Url() {
        SessionIds ids = new SessionIds(new SecureRandom());
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String id = ids.next();
            assertEquals(22, id.length());
            assertEquals(16, Base64.getUrlDecoder().decode(id).length);
            assertTrue(SessionIds.wellFormed(id));
            assertTrue(seen.add(id), "ids never repeat");
        }
    }

    @Test
    void malformedIdsAreRecognised() {
        assertFalse(SessionIds.wellFormed(null));
        assertFalse(SessionIds.wellFormed(""));
        assertFalse(SessionIds.wellFormed("short"));
        assertFalse(SessionIds.wellFormed("AAAAAAAAAAAAAAAAAAAAAAA"));
        assertFalse(SessionIds.wellFormed("AAAAAAAAAAAAAAAAAAAA/+"));
        assertFalse(SessionIds.wellFormed("AAAAAAAAAAAAAAAAAAAA\nA"));
        assertTrue(SessionIds.wellFormed("AAAAAAAAAAAAAAAAAAAA-_"));
    }

    @Test
    void withANodeIdIdsCarryItAsAPrefix() {
        SessionIds ids = new SessionIds(new SecureRandom(), "gw-1");
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 1_000; i++) {
            String id = ids.next();
            assertTrue(id.startsWith("gw-1."), id);
            String random = id.substring("gw-1.".length());
            assertEquals(22, random.length());
            assertEquals(16, Base64.getUrlDecoder().decode(random).length);
            assertTrue(SessionIds.wellFormed(id), id);
            assertTrue(seen.add(id), "ids never repeat");
        }
    }

    @Test
    void withoutANodeIdIdsHaveNoPrefix() {
        assertFalse(new SessionIds(new SecureRandom(), null).next().contains("."));
    }

    @Test
    void prefixedIdsAreRecognisedAndMalformedOnesAreNot() {
        String random = "AAAAAAAAAAAAAAAAAAAA-_";
        assertTrue(SessionIds.wellFormed("a." + random));
        assertTrue(SessionIds.wellFormed("gw-1." + random));
        assertTrue(SessionIds.wellFormed("a".repeat(32) + "." + random));
        assertFalse(SessionIds.wellFormed("a".repeat(33) + "." + random), "node ids have 32 characters at most");
        assertFalse(SessionIds.wellFormed("." + random), "an empty prefix");
        assertFalse(SessionIds.wellFormed("GW." + random), "upper case is not a node id");
        assertFalse(SessionIds.wellFormed("gw_1." + random));
        assertFalse(SessionIds.wellFormed("a.b." + random), "one prefix at most");
        assertFalse(SessionIds.wellFormed("gw-1." + random.substring(1)), "the random part stays 22 characters");
        assertFalse(SessionIds.wellFormed("gw-1." + random + "A"));
        assertFalse(SessionIds.wellFormed("gw-1" + random), "the prefix ends with a dot");
    }
}
