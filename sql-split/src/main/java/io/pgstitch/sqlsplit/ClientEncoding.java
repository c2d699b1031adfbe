package io.pgstitch.sqlsplit;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code client_encoding} a query text is in, as far as splitting it cares. The proxy hands the analyzer
 * the client's bytes, one char per byte (read as ISO-8859-1), so that every offset is a byte offset and every
 * segment a slice of the original bytes: pgstitch re-encodes nothing, and PostgreSQL, not pgstitch, judges
 * whether the bytes are valid.
 *
 * <p>Why bytes lex exactly: in every encoding PostgreSQL allows for servers (UTF8, the EUC family, MULE_INTERNAL,
 * the single-byte ones) a byte from 0x80 up never stands for an ASCII character, and PostgreSQL's scanner
 * takes every such byte as an identifier character, so quotes, comments and semicolons are found exactly
 * without knowing where the characters end. Seven client-only encodings break that rule: in SJIS,
 * SHIFT_JIS_2004, BIG5, GBK, UHC, GB18030 and JOHAB the second byte of a character may be ASCII ({@code \},
 * a letter, a digit, {@code ;} in JOHAB). For those, {@link #lexable} masks every byte after the first of
 * each character, finding their lengths the way PostgreSQL does (pg_wchar.c's mblen functions), before the
 * lexer sees the text.
 *
 * <p>Identifiers, which are matched against RPC patterns, are decoded from their bytes with the Java charset
 * of the encoding. Java has none for EUC_JIS_2004, LATIN6, LATIN8 and MULE_INTERNAL: there each non-ASCII byte
 * reads as U+FFFD, so a pattern matches such a name only through its wildcards. SQL_ASCII bytes are read as
 * UTF-8, which is what a UTF8 database takes them for.
 */
public final class ClientEncoding {

    /** How long a character is in an encoding whose later bytes may be ASCII (pg_wchar.c). */
    private enum Multibyte {
        /** pg_sjis_mblen: 0xA1-0xDF is one-byte kana, any other byte from 0x80 starts two. */
        SJIS,
        /** pg_big5_mblen, pg_gbk_mblen, pg_uhc_mblen: any byte from 0x80 starts two. */
        DOUBLE,
        /** pg_gb18030_mblen: four bytes when the second is a digit, else two. */
        GB18030,
        /** pg_johab_mblen, which is pg_euc_mblen: SS2 (0x8E) starts two, SS3 (0x8F) three, others two. */
        JOHAB;

        int length(char lead, char next) {
            return switch (this) {
                case SJIS -> lead >= 0xA1 && lead <= 0xDF ? 1 : 2;
                case DOUBLE -> 2;
                case GB18030 -> next >= '0' && next <= '9' ? 4 : 2;
                case JOHAB -> lead == 0x8F ? 3 : 2;
            };
        }
    }

    /** What stands in the lexer's copy for a masked byte: a non-ASCII char, so part of whatever token holds it. */
    private static final char MASK = 0x80;

    private static final Map<String, ClientEncoding> BY_NAME = new HashMap<>();

    public static final ClientEncoding UTF8 = define("UTF8", "UTF-8", null);

    static {
        define("SQL_ASCII", "UTF-8", null);
        define("EUC_JP", "EUC-JP", null);
        define("EUC_CN", "GB2312", null);
        define("EUC_KR", "EUC-KR", null);
        define("EUC_TW", "x-EUC-TW", null);
        define("EUC_JIS_2004", null, null);
        define("MULE_INTERNAL", null, null);
        define("LATIN1", "ISO-8859-1", null);
        define("LATIN2", "ISO-8859-2", null);
        define("LATIN3", "ISO-8859-3", null);
        define("LATIN4", "ISO-8859-4", null);
        define("LATIN5", "ISO-8859-9", null);
        define("LATIN6", "ISO-8859-10", null);
        define("LATIN7", "ISO-8859-13", null);
        define("LATIN8", "ISO-8859-14", null);
        define("LATIN9", "ISO-8859-15", null);
        define("LATIN10", "ISO-8859-16", null);
        define("ISO_8859_5", "ISO-8859-5", null);
        define("ISO_8859_6", "ISO-8859-6", null);
        define("ISO_8859_7", "ISO-8859-7", null);
        define("ISO_8859_8", "ISO-8859-8", null);
        define("WIN866", "IBM866", null);
        define("WIN874", "x-windows-874", null);
        define("WIN1250", "windows-1250", null);
        define("WIN1251", "windows-1251", null);
        define("WIN1252", "windows-1252", null);
        define("WIN1253", "windows-1253", null);
        define("WIN1254", "windows-1254", null);
        define("WIN1255", "windows-1255", null);
        define("WIN1256", "windows-1256", null);
        define("WIN1257", "windows-1257", null);
        define("WIN1258", "windows-1258", null);
        define("KOI8R", "KOI8-R", null);
        define("KOI8U", "KOI8-U", null);
        // client-only: PostgreSQL's SJIS, BIG5, GBK and UHC are the Windows code pages (WIN932, WIN950, ...)
        define("SJIS", "windows-31j", Multibyte.SJIS);
        define("SHIFT_JIS_2004", "x-SJIS_0213", Multibyte.SJIS);
        define("BIG5", "x-windows-950", Multibyte.DOUBLE);
        define("GBK", "GBK", Multibyte.DOUBLE);
        define("UHC", "x-windows-949", Multibyte.DOUBLE);
        define("GB18030", "GB18030", Multibyte.GB18030);
        define("JOHAB", "x-Johab", Multibyte.JOHAB);
    }

    /** Not an encoding: the text is a Java string, one char per UTF-16 unit (explain-split, tests). */
    static final ClientEncoding JAVA_TEXT = new ClientEncoding("UTF-16 text", null, null);

    private final String name;
    /** Decodes identifiers; null when Java has no such charset. */
    private final Charset charset;
    /** Null when no byte of a multibyte character is ASCII: the text lexes as it is. */
    private final Multibyte multibyte;

    private ClientEncoding(String name, Charset charset, Multibyte multibyte) {
        this.name = name;
        this.charset = charset;
        this.multibyte = multibyte;
    }

    private static ClientEncoding define(String name, String charset, Multibyte multibyte) {
        ClientEncoding encoding = new ClientEncoding(name,
                charset != null && Charset.isSupported(charset) ? Charset.forName(charset) : null, multibyte);
        BY_NAME.put(clean(name), encoding);
        return encoding;
    }

    /**
     * The encoding PostgreSQL calls {@code name} (as ParameterStatus reports it, e.g. {@code LATIN1}; case,
     * dashes and underscores do not matter), or null when PostgreSQL has no such encoding.
     */
    public static ClientEncoding of(String name) {
        return name == null ? null : BY_NAME.get(clean(name));
    }

    /** As PostgreSQL's clean_encoding_name: letters and digits only, lower case. */
    private static String clean(String name) {
        StringBuilder out = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x80 && Character.isLetterOrDigit(c)) {
                out.append(Character.toLowerCase(c));
            }
        }
        return out.toString();
    }

    /** PostgreSQL's name for it. */
    public String name() {
        return name;
    }

    /** The Java charset that decodes its names, or null when Java has none. */
    Charset charset() {
        return charset;
    }

    /**
     * The text the lexer scans: {@code bytes} itself, or for the seven encodings above, when it holds a byte from
     * 0x80 up, a copy of the same length in which every byte after the first of a character is masked.
     */
    String lexable(String bytes) {
        if (multibyte == null) {
            return bytes;
        }
        int i = 0;
        int length = bytes.length();
        while (i < length && bytes.charAt(i) < 0x80) {
            i++;
        }
        if (i == length) {
            return bytes;
        }
        char[] chars = bytes.toCharArray();
        while (i < length) {
            char c = chars[i];
            if (c < 0x80) {
                i++;
                continue;
            }
            int end = Math.min(length, i + multibyte.length(c, i + 1 < length ? chars[i + 1] : 0));
            for (int j = i + 1; j < end; j++) {
                chars[j] = MASK;
            }
            i = end;
        }
        return new String(chars);
    }

    /**
     * How many characters PostgreSQL counts in {@code text[start, end)} (an error's position is counted in them):
     * the characters its bytes decode to in this encoding, or Unicode code points for Java text.
     */
    public int characters(String text, int start, int end) {
        if (multibyte != null && charset == null) { // step over each character as pg_wchar.c does
            int count = 0;
            for (int i = start; i < end; count++) {
                char c = text.charAt(i);
                i += c < 0x80 ? 1 : multibyte.length(c, i + 1 < end ? text.charAt(i + 1) : 0);
            }
            return count;
        }
        String decoded = decode(text, start, end);
        return decoded.codePointCount(0, decoded.length());
    }

    /** {@code text[start, end)} as characters: decoded from the bytes it stands for, or as it is for Java text. */
    String decode(String text, int start, int end) {
        String part = text.substring(start, end);
        if (this == JAVA_TEXT || isAscii(part)) {
            return part;
        }
        byte[] bytes = part.getBytes(StandardCharsets.ISO_8859_1);
        if (charset != null) {
            return new String(bytes, charset);
        }
        StringBuilder out = new StringBuilder(bytes.length);
        for (byte b : bytes) {
            out.append(b >= 0 ? (char) b : '\uFFFD');
        }
        return out.toString();
    }

    private static boolean isAscii(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return name;
    }
}
