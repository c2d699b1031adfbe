package io.pgstitch.conf;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PgBouncer's userlist format ({@code auth_file}), one entry a line:
 *
 * <pre>
 * ; comment            (also # comment; blank lines are skipped)
 * "alice" "SCRAM-SHA-256$4096:salt$StoredKey:ServerKey"
 * "bob"   "md5d41d8cd98f00b204e9800998ecf8427e"
 * "carol" "plain text, a "" inside quotes is one quote"
 * </pre>
 *
 * As in PgBouncer, whatever follows the second field on its line is ignored. Unlike PgBouncer, which stops at
 * the first broken line, every problem is collected and reported as {@code FILE:LINE: what}, and none of them
 * repeats a secret.
 */
public final class UsersFile {

    private static final Pattern SCRAM = Pattern.compile(
            "SCRAM-SHA-256\\$([0-9]{1,10}):([^$:]+)\\$([^$:]+):([^$:]+)");
    private static final Pattern MD5 = Pattern.compile("md5[0-9a-f]{32}");
    /** PostgreSQL's NAMEDATALEN - 1: a longer user name can never log in. */
    private static final int MAX_USER_BYTES = 63;

    private final Path file;
    private final Map<String, UserSecret> users;

    private UsersFile(Path file, Map<String, UserSecret> users) {
        this.file = file;
        this.users = Collections.unmodifiableMap(users);
    }

    public static UsersFile load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(List.of(file + ": cannot be read: " + e));
        }
        return parse(text, file);
    }

    /** @param file names the source in problems */
    public static UsersFile parse(String text, Path file) throws ConfigException {
        Map<String, UserSecret> users = new LinkedHashMap<>();
        Map<String, Integer> lines = new HashMap<>();
        List<String> problems = new ArrayList<>();
        String[] rows = text.split("\r?\n", -1);
        for (int i = 0; i < rows.length; i++) {
            String where = file + ":" + (i + 1) + ": ";
            String row = i == 0 && rows[0].startsWith("\uFEFF") ? rows[0].substring(1) : rows[i];
            String trimmed = row.strip();
            if (trimmed.isEmpty() || trimmed.startsWith(";") || trimmed.startsWith("#")) {
                continue;
            }
            Line line = new Line(trimmed);
            String user = line.quoted();
            if (user == null) {
                problems.add(where + "expected \"user\" \"secret\" with both in double quotes");
                continue;
            }
            if (!line.skipSpace()) {
                problems.add(where + "expected whitespace and the quoted secret after the user name");
                continue;
            }
            String secret = line.quoted();
            if (secret == null) {
                problems.add(where + "user \"" + user + "\": the secret must be in double quotes, closed on "
                        + "the same line");
                continue;
            }
            String problem = checkUser(user);
            if (problem == null) {
                problem = secret.isEmpty() ? "the secret is empty" : null;
            }
            UserSecret classified = null;
            if (problem == null) {
                try {
                    classified = classify(secret);
                } catch (IllegalArgumentException e) {
                    problem = e.getMessage();
                }
            }
            if (problem != null) {
                problems.add(where + (user.isEmpty() ? "" : "user \"" + user + "\": ") + problem);
            } else if (lines.containsKey(user)) {
                problems.add(where + "user \"" + user + "\" is listed twice (first at line " + lines.get(user)
                        + ")");
            } else {
                users.put(user, classified);
                lines.put(user, i + 1);
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new UsersFile(file, users);
    }

    /** The user's secret, or null for a user the file does not list. */
    public UserSecret secret(String user) {
        return users.get(user);
    }

    public Set<String> users() {
        return users.keySet();
    }

    public Path file() {
        return file;
    }

    @Override
    public String toString() {
        return "UsersFile[" + file + ", " + users.size() + " users]";
    }

    /**
     * PostgreSQL's get_password_type, except that a text starting like a SCRAM secret must be a well-formed
     * one: PostgreSQL would take a truncated paste for a plaintext password. Also used for secrets that
     * {@code auth.auth_query} reads from a shard, so both sources mean the same by the same text.
     *
     * @throws IllegalArgumentException for a malformed SCRAM secret; the message never repeats the secret
     */
    public static UserSecret classify(String secret) {
        if (secret.startsWith("SCRAM-SHA-256$")) {
            checkScram(secret);
            return new UserSecret.Scram(secret);
        }
        return MD5.matcher(secret).matches() ? new UserSecret.Md5(secret) : new UserSecret.Plain(secret);
    }

    private static void checkScram(String secret) {
        Matcher m = SCRAM.matcher(secret);
        if (!m.matches()) {
            throw new IllegalArgumentException("malformed SCRAM secret (expected "
                    + "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>)");
        }
        long iterations = Long.parseLong(m.group(1));
        if (iterations < 1 || iterations > 1_000_000) {
            throw new IllegalArgumentException("SCRAM iteration count must be between 1 and 1000000, got "
                    + iterations);
        }
        if (decodedLength(m.group(2)) < 1 || decodedLength(m.group(3)) != 32 || decodedLength(m.group(4)) != 32) {
            throw new IllegalArgumentException("malformed SCRAM secret: the salt must be base64 and StoredKey and "
                    + "ServerKey base64 of 32 bytes each");
        }
    }

    private static int decodedLength(String base64) {
        try {
            return Base64.getDecoder().decode(base64).length;
        } catch (IllegalArgumentException e) {
            return -1;
        }
    }

    private static String checkUser(String user) {
        if (user.isEmpty()) {
            return "empty user name";
        }
        int bytes = user.getBytes(StandardCharsets.UTF_8).length;
        return bytes > MAX_USER_BYTES ? "user name is " + bytes + " bytes long, the limit is " + MAX_USER_BYTES
                : null;
    }

    /** A cursor over one line: quoted fields with {@code ""} as an escaped quote. */
    private static final class Line {

        private final String text;
        private int position;

        Line(String text) {
            this.text = text;
        }

        /** The next quoted field without its quotes, or null when there is none or it is not closed. */
        String quoted() {
            if (position >= text.length() || text.charAt(position) != '"') {
                return null;
            }
            StringBuilder value = new StringBuilder();
            for (int i = position + 1; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c != '"') {
                    value.append(c);
                } else if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
                    value.append('"');
                    i++;
                } else {
                    position = i + 1;
                    return value.toString();
                }
            }
            return null;
        }

        /** Skips at least one space or tab; false when there is none. */
        boolean skipSpace() {
            int start = position;
            while (position < text.length() && (text.charAt(position) == ' ' || text.charAt(position) == '\t')) {
                position++;
            }
            return position > start;
        }
    }
}
