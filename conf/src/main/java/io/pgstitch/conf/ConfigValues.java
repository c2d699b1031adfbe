package io.pgstitch.conf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The value primitives of {@link ConfigReader}: each reads one setting, expands {@code ${NAME}}, and returns the
 * default (recording {@code path: problem}) when the value is unusable, so that reading goes on and every problem
 * of a file is reported at once.
 */
final class ConfigValues {

    private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)?");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|kB|MB|GB)?");
    private static final int MAX_NAME_BYTES = 63;

    private final Path baseDir;
    private final Function<String, String> env;
    private final List<String> problems = new ArrayList<>();

    /**
     * @param baseDir relative paths resolve against it
     * @param env     looks up environment variables; null for an unset one
     */
    ConfigValues(Path baseDir, Function<String, String> env) {
        this.baseDir = baseDir;
        this.env = env;
    }

    List<String> problems() {
        return problems;
    }

    /** The child mapping, or an empty one when absent; a non-mapping is a problem. */
    JsonNode child(JsonNode parent, String parentPath, String key) {
        JsonNode node = parent.get(key);
        String path = parentPath.isEmpty() ? key : parentPath + "." + key;
        return node == null || node.isNull() || !mapping(node, path) ? JsonNodeFactory.instance.objectNode() : node;
    }

    boolean mapping(JsonNode node, String path) {
        if (!node.isObject()) {
            problems.add(path + ": must be a mapping (key: value), got " + describe(node));
            return false;
        }
        return true;
    }

    void keys(JsonNode node, String path, String... allowed) {
        List<String> known = Arrays.asList(allowed);
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!known.contains(key)) {
                problems.add((path.isEmpty() ? "" : path + ".") + key + ": unknown setting (expected one of: "
                        + String.join(", ", allowed) + ")");
            }
        }
    }

    String string(JsonNode node, String path, String key, String fallback) {
        JsonNode value = node.get(key);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isValueNode()) {
            problems.add(path + "." + key + ": must be a single value, got " + describe(value));
            return fallback;
        }
        return expand(path + "." + key, value.asText());
    }

    String nonEmpty(JsonNode node, String path, String key, String fallback) {
        String value = string(node, path, key, fallback);
        if (value.isBlank()) {
            problems.add(path + "." + key + ": must not be empty");
            return fallback;
        }
        return value;
    }

    int integer(JsonNode node, String path, String key, int fallback, int min, int max) {
        String text = string(node, path, key, null);
        if (text == null) {
            return fallback;
        }
        try {
            long value = Long.parseLong(text.trim());
            if (value < min || value > max) {
                problems.add(path + "." + key + ": must be between " + min + " and " + max + ", got " + value);
                return fallback;
            }
            return (int) value;
        } catch (NumberFormatException e) {
            problems.add(path + "." + key + ": must be a whole number, got \"" + text + "\"");
            return fallback;
        }
    }

    <E extends Enum<E>> E enumValue(JsonNode node, String path, String key, Class<E> type, E fallback) {
        return enumValue(node, path, key, type, fallback, EnumSet.allOf(type));
    }

    /** @param allowed the constants valid here; the others are refused like unknown values */
    <E extends Enum<E>> E enumValue(JsonNode node, String path, String key, Class<E> type, E fallback,
                                            EnumSet<E> allowed) {
        String text = string(node, path, key, null);
        if (text == null) {
            return fallback;
        }
        if (node.get(key).isBoolean() && text.equals("false")) {
            text = "off"; // YAML 1.1 reads an unquoted off (and no) as false
        }
        String wanted = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        List<String> spellings = new ArrayList<>();
        for (E constant : allowed) {
            if (constant.name().equals(wanted)) {
                return constant;
            }
            spellings.add(constant.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        }
        problems.add(path + "." + key + ": unknown value \"" + text + "\" (expected one of: "
                + String.join(", ", spellings) + ")");
        return fallback;
    }

    boolean bool(JsonNode node, String path, String key, boolean fallback) {
        String text = string(node, path, key, null);
        if (text == null) {
            return fallback;
        }
        return switch (text.trim()) {
            case "true" -> true;
            case "false" -> false;
            default -> {
                problems.add(path + "." + key + ": must be true or false, got \"" + text + "\"");
                yield fallback;
            }
        };
    }

    Path path(JsonNode node, String path, String key) {
        String text = string(node, path, key, null);
        if (text == null || text.isBlank()) {
            return null;
        }
        Path value = Path.of(text);
        return value.isAbsolute() || baseDir == null ? value : baseDir.resolve(value).normalize();
    }

    Duration duration(JsonNode node, String path, String key, Duration fallback) {
        String text = string(node, path, key, null);
        if (text == null) {
            return fallback;
        }
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
            problems.add(path + "." + key + ": must be a positive duration such as 250ms, 30s, 15m or 2h, got \""
                    + text + "\"");
            return fallback;
        }
        long amount = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofSeconds(amount);
        };
    }

    /**
     * A size in bytes: a bare number of bytes or a number with B, kB, MB or GB (powers of 1024, as PostgreSQL's
     * memory settings). A value above {@code max} that is exactly 1GB means {@code max}: PostgreSQL's own
     * message limit is 1 GB less a byte or two, and that is what one means by writing 1GB.
     */
    int size(JsonNode node, String path, String key, int fallback, int min, int max) {
        String text = string(node, path, key, null);
        if (text == null) {
            return fallback;
        }
        Matcher m = SIZE.matcher(text.trim());
        long value = -1;
        if (m.matches() && m.group(1).length() <= 12) {
            int shift = switch (m.group(2) == null ? "B" : m.group(2)) {
                case "kB" -> 10;
                case "MB" -> 20;
                case "GB" -> 30;
                default -> 0;
            };
            value = Long.parseLong(m.group(1)) << shift;
        }
        if (value == 1L << 30 && max < value) {
            return max;
        }
        if (value < min || value > max) {
            problems.add(path + "." + key + ": must be a size from " + min + " to " + max
                    + " bytes, such as 512kB, 64MB or 1GB, got \"" + text + "\"");
            return fallback;
        }
        return (int) value;
    }

    List<String> stringList(JsonNode node, String path, String key) {
        JsonNode list = node.get(key);
        List<String> values = new ArrayList<>();
        if (list == null || list.isNull()) {
            return values;
        }
        if (!list.isArray()) {
            problems.add(path + "." + key + ": must be a list, got " + describe(list));
            return values;
        }
        for (int i = 0; i < list.size(); i++) {
            JsonNode item = list.get(i);
            if (!item.isValueNode() || item.isNull()) {
                problems.add(path + "." + key + "[" + i + "]: must be a single value, got " + describe(item));
            } else {
                values.add(expand(path + "." + key + "[" + i + "]", item.asText()));
            }
        }
        return values;
    }

    void checkName(String path, String what, String name) {
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (name.isEmpty()) {
            problems.add(path + ": empty " + what);
        } else if (bytes > MAX_NAME_BYTES) {
            problems.add(path + ": " + what + " is " + bytes + " bytes long, the limit is " + MAX_NAME_BYTES);
        }
    }

    /**
     * An optional role name and its optional password: a password without the name is a problem (it would be
     * silently unused), and so is a name PostgreSQL could never have.
     */
    String role(JsonNode node, String path, String userKey, String passwordKey) {
        String user = string(node, path, userKey, null);
        if (user == null) {
            if (node.hasNonNull(passwordKey)) {
                problems.add(path + "." + passwordKey + ": given without " + userKey
                        + " (whose password it would be)");
            }
            return null;
        }
        checkName(path + "." + userKey, "user name", user);
        return user.isEmpty() ? null : user;
    }

    /** Replaces {@code ${NAME}} from the environment; an unset variable is a problem naming the path. */
    String expand(String path, String value) {
        if (value.indexOf("${") < 0) {
            return value;
        }
        Matcher m = ENV.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String replacement = env.apply(m.group(1));
            if (replacement == null) {
                problems.add(path + ": environment variable " + m.group(1) + " is not set");
                replacement = "";
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    static String describe(JsonNode node) {
        if (node.isObject()) {
            return "a mapping";
        }
        if (node.isArray()) {
            return "a list";
        }
        return "\"" + node.asText() + "\"";
    }
}
