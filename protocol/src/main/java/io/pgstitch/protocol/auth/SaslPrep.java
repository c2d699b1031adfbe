package io.pgstitch.protocol.auth;

import com.ongres.stringprep.Option;
import com.ongres.stringprep.Profile;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.EnumSet;
import java.util.Set;

/**
 * SASLprep (RFC 4013) of a SCRAM password exactly as PostgreSQL's {@code pg_saslprep} (src/common/saslprep.c)
 * runs it, in the server ({@code scram_build_secret}, {@code scram_verify_plain_password}) and in libpq alike, so
 * that a verifier built here equals {@code pg_authid.rolpassword} and a proof sent from here is the one libpq
 * would send:
 *
 * <ol>
 *   <li>pure ASCII is used as it is, even with control characters that SASLprep prohibits;</li>
 *   <li>map: C.1.2 non-ASCII spaces become U+0020, B.1 characters are removed (U+200B is in both tables: the
 *       space wins, as in PostgreSQL); an empty result is refused;</li>
 *   <li>prohibited output (C.1.2, C.2-C.9), unassigned code points (A.1) and the bidi rule (D.1, D.2) are
 *       checked on the <em>mapped</em> text, before normalization, as PostgreSQL does (the RFC checks the
 *       normalized text; the two differ for U+0340 and U+0341, which NFKC turns into allowed marks);</li>
 *   <li>NFKC.</li>
 * </ol>
 *
 * When the password is not valid UTF-8 or a step refuses it, PostgreSQL hashes the raw bytes instead of failing,
 * and so does {@link #passwordBytes}. Why the tables come from com.ongres.stringprep: they are RFC 3454's, the
 * same that PgJDBC ships, and hand-copied tables of a thousand ranges are where mistakes hide. Their SASLprep
 * profile is not used as such: it checks after normalizing and maps U+200B to nothing.
 */
public final class SaslPrep {

    /** Only the checks of step 3: no mapping and no normalization, which are done here around it. */
    private static final Set<Option> CHECKS = EnumSet.of(Option.FORBID_NON_ASCII_SPACES,
            Option.FORBID_ASCII_CONTROL, Option.FORBID_NON_ASCII_CONTROL, Option.FORBID_PRIVATE_USE,
            Option.FORBID_NON_CHARACTER, Option.FORBID_SURROGATE, Option.FORBID_INAPPROPRIATE_FOR_PLAIN_TEXT,
            Option.FORBID_INAPPROPRIATE_FOR_CANON_REP, Option.FORBID_CHANGE_DISPLAY_AND_DEPRECATED,
            Option.FORBID_TAGGING, Option.CHECK_BIDI);
    private static final Profile CHECK_PROFILE = () -> CHECKS;

    private SaslPrep() {
    }

    /** The bytes SCRAM hashes for {@code password}: its SASLprep form, or its UTF-8 bytes when that fails. */
    public static byte[] passwordBytes(String password) {
        return passwordBytes(password.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The bytes SCRAM hashes for a password given as bytes (as a client sent it): its SASLprep form in UTF-8,
     * or a copy of the bytes themselves when they are not valid UTF-8 or SASLprep refuses them.
     */
    public static byte[] passwordBytes(byte[] password) {
        String prepared = prepare(password);
        return prepared == null ? password.clone() : prepared.getBytes(StandardCharsets.UTF_8);
    }

    /** pg_saslprep: the prepared text, or null where it returns anything but SASLPREP_SUCCESS. */
    private static String prepare(byte[] password) {
        if (isAscii(password)) {
            return new String(password, StandardCharsets.US_ASCII);
        }
        String text;
        try {
            // A fresh decoder reports malformed input (overlong forms, surrogates, beyond U+10FFFF) as
            // pg_utf8_islegal does, where String's constructor would substitute U+FFFD.
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(password)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
        String mapped = map(text);
        if (mapped.isEmpty()) {
            return null; // PostgreSQL: "don't allow empty password"
        }
        try {
            CHECK_PROFILE.prepareStored(mapped); // stored: unassigned code points are prohibited too
        } catch (IllegalArgumentException e) {
            return null;
        }
        return Normalizer.normalize(mapped, Normalizer.Form.NFKC);
    }

    private static boolean isAscii(byte[] bytes) {
        for (byte b : bytes) {
            if (b < 0) {
                return false;
            }
        }
        return true;
    }

    /** Step 1 of RFC 3454 for SASLprep: RFC 4013 section 2.1. */
    private static String map(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            if (isNonAsciiSpace(c)) {
                out.append(' ');
            } else if (!isMappedToNothing(c)) {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }

    /** RFC 3454 table C.1.2. */
    static boolean isNonAsciiSpace(int c) {
        return c == 0x00A0 || c == 0x1680 || c >= 0x2000 && c <= 0x200B || c == 0x202F || c == 0x205F
                || c == 0x3000;
    }

    /** RFC 3454 table B.1. */
    static boolean isMappedToNothing(int c) {
        return c == 0x00AD || c == 0x034F || c == 0x1806 || c >= 0x180B && c <= 0x180D
                || c >= 0x200B && c <= 0x200D || c == 0x2060 || c >= 0xFE00 && c <= 0xFE0F || c == 0xFEFF;
    }
}
