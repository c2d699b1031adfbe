package io.pgstitch.protocol.auth;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SASLprep as PostgreSQL's pg_saslprep: the RFC 4013 section 3 examples, then the cases where PostgreSQL uses the
 * raw password because SASLprep refuses it, then its departures from the letter of the RFC.
 */
class SaslPrepTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String prepared(String password) {
        return new String(SaslPrep.passwordBytes(password), StandardCharsets.UTF_8);
    }

    @Test
    void rfc4013Examples() {
        assertThat(prepared("I\u00ADX")).as("#1 SOFT HYPHEN mapped to nothing").isEqualTo("IX");
        assertThat(prepared("user")).as("#2 no transformation").isEqualTo("user");
        assertThat(prepared("USER")).as("#3 case preserved").isEqualTo("USER");
        assertThat(prepared("\u00AA")).as("#4 output is NFKC").isEqualTo("a");
        assertThat(prepared("\u2168")).as("#5 ROMAN NUMERAL NINE, NFKC").isEqualTo("IX");
        // #6 and #7 are errors in the RFC; PostgreSQL then hashes the password as it is.
        assertThat(SaslPrep.passwordBytes("\u0007")).as("#6 prohibited, but pure ASCII").containsExactly(7);
        assertThat(SaslPrep.passwordBytes("\u0627\u0031")).as("#7 bidi check fails: raw bytes")
                .isEqualTo(utf8("\u0627\u0031"));
    }

    @Test
    void passwordsThatSaslPrepChanges() {
        assertThat(prepared("pass\u00A0word")).as("NO-BREAK SPACE").isEqualTo("pass word");
        assertThat(prepared("pass\u3000word")).as("IDEOGRAPHIC SPACE").isEqualTo("pass word");
        assertThat(SaslPrep.passwordBytes("a\u0308")).as("decomposed a-umlaut composes")
                .isEqualTo(utf8("\u00E4")).containsExactly(0xC3, 0xA4);
        assertThat(prepared("pa\u00ADss\uFEFFwo\u200Drd")).as("mapped to nothing").isEqualTo("password");
        assertThat(prepared("\uFF50\uFF41\uFF53\uFF53")).as("fullwidth letters").isEqualTo("pass");
        assertThat(prepared("\uFB01")).as("ligature fi").isEqualTo("fi");
    }

    @Test
    void passwordsThatSaslPrepLeavesAlone() {
        assertThat(SaslPrep.passwordBytes("pässwörd \"q")).isEqualTo(utf8("pässwörd \"q"));
        assertThat(SaslPrep.passwordBytes("\u05D0\u05D1")).as("right-to-left only").isEqualTo(utf8("\u05D0\u05D1"));
        assertThat(SaslPrep.passwordBytes("")).isEmpty();
    }

    @Test
    void refusedPasswordsAreUsedRaw() {
        assertThat(SaslPrep.passwordBytes("\u00E4\u0007")).as("control character").isEqualTo(utf8("\u00E4\u0007"));
        assertThat(SaslPrep.passwordBytes("x\uE000")).as("private use").isEqualTo(utf8("x\uE000"));
        assertThat(SaslPrep.passwordBytes("x\u0221")).as("unassigned in Unicode 3.2").isEqualTo(utf8("x\u0221"));
        assertThat(SaslPrep.passwordBytes("\u0627a\u0628")).as("RandALCat with LCat")
                .isEqualTo(utf8("\u0627a\u0628"));
        assertThat(SaslPrep.passwordBytes("\u00AD")).as("nothing left after mapping").containsExactly(0xC2, 0xAD);
        assertThat(SaslPrep.passwordBytes("\u00A0\u200E")).as("a mapped space does not save a prohibited mark")
                .isEqualTo(utf8("\u00A0\u200E"));
    }

    @Test
    void invalidUtf8IsUsedRaw() {
        byte[] latin1 = {'p', (byte) 0xE4, 's', 's'};
        assertThat(SaslPrep.passwordBytes(latin1)).containsExactly('p', 0xE4, 's', 's').isNotSameAs(latin1);
        byte[] encodedSurrogate = {'a', (byte) 0xED, (byte) 0xA0, (byte) 0x80};
        assertThat(SaslPrep.passwordBytes(encodedSurrogate)).isEqualTo(encodedSurrogate);
        assertThat(SaslPrep.passwordBytes(utf8("a\u00A0b"))).isEqualTo(utf8("a b"));
    }

    @Test
    void postgresChecksBeforeNormalizing() {
        // U+0340 is prohibited (C.8) but NFKC turns it into U+0300: PostgreSQL checks the mapped input, so it
        // refuses and hashes the raw bytes, where the RFC's order would give "\u00E0".
        assertThat(SaslPrep.passwordBytes("a\u0340")).isEqualTo(utf8("a\u0340"));
        // U+200B is both a non-ASCII space (C.1.2) and mapped to nothing (B.1): PostgreSQL makes it a space.
        assertThat(prepared("a\u200Bb")).isEqualTo("a b");
    }
}
