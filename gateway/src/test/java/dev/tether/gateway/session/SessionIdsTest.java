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
}
