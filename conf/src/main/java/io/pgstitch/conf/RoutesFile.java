package io.pgstitch.conf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code admin.routes_file}: the routes pgstitch's HTTP API owns, kept apart from the configuration file an admin
 * edits. Its format is the {@code routes} section of the configuration ({@code routes: {tenant_x: shard2}}); it is
 * read with the configuration, through the same validation, and written whole by {@link #write}: to a temporary
 * file in the same directory, then renamed over the old one, so a reader never sees half a file.
 */
public final class RoutesFile {

    private static final YAMLMapper YAML = new YAMLMapper();
    private static final String HEADER = "# Written by pgstitch's admin API (PUT/DELETE /api/v1/routes/{database}); "
            + "changes made here by hand are\n# overwritten by the next API change. Same format as \"routes\" in "
            + "the configuration file.\n";

    private RoutesFile() {
    }

    /** The file's YAML tree; null when there is no file (or it is empty). */
    static JsonNode readTree(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            return null;
        }
        JsonNode root = YAML.readTree(text);
        return root == null || root.isMissingNode() || root.isNull() ? null : root;
    }

    /**
     * The routes the file holds, database ID to target, in file order; what the API reads before it changes one.
     * Values are not validated here: the reload that follows a write does that.
     */
    public static Map<String, Target> read(Path file) throws IOException {
        Map<String, Target> routes = new LinkedHashMap<>();
        JsonNode root = readTree(file);
        JsonNode section = root == null ? null : root.get("routes");
        if (section == null || !section.isObject()) {
            return routes;
        }
        section.properties().forEach(entry -> {
            JsonNode value = entry.getValue();
            if (value.isObject()) {
                routes.put(entry.getKey(), new Target(value.path("shard").asText(null),
                        value.hasNonNull("database") ? value.get("database").asText() : null));
            } else {
                routes.put(entry.getKey(), new Target(value.asText(), null));
            }
        });
        return routes;
    }

    /** Replaces the file with {@code routes}, atomically (temporary file, then rename). */
    public static void write(Path file, Map<String, Target> routes) throws IOException {
        ObjectNode section = JsonNodeFactory.instance.objectNode();
        routes.forEach((pattern, target) -> {
            if (target.database() == null) {
                section.put(pattern, target.shard());
            } else {
                section.putObject(pattern).put("shard", target.shard()).put("database", target.database());
            }
        });
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.set("routes", section);
        String text = HEADER + YAML.writeValueAsString(root).replaceFirst("^---\\n", "");
        Path directory = file.toAbsolutePath().getParent();
        Files.createDirectories(directory);
        Path temporary = Files.createTempFile(directory, "." + file.getFileName() + ".", ".tmp");
        try {
            Files.writeString(temporary, text);
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /**
     * Where a database ID goes.
     *
     * @param database the backend database; null: the database ID itself
     */
    public record Target(String shard, String database) {
    }
}
