package io.pgstitch.conf;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/** Reads and validates the YAML configuration file; see {@link ConfigReader} for the rules. */
public final class ConfigLoader {

    private static final YAMLMapper YAML = new YAMLMapper();

    private ConfigLoader() {
    }

    /** Loads {@code file}, expanding {@code ${NAME}} from the process environment. */
    public static ProxyConfig load(Path file) throws ConfigException {
        String yaml;
        try {
            yaml = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException(List.of(file + ": cannot be read: " + e));
        }
        Path absolute = file.toAbsolutePath();
        ProxyConfig config = parse(yaml, absolute.getParent(), System::getenv);
        checkUsersFile(config.auth());
        return config;
    }

    /** The users file is part of what a reload or check-config must find readable, so it is read here too. */
    private static void checkUsersFile(AuthConfig auth) throws ConfigException {
        if (auth.usersFile() != null) {
            try {
                UsersFile.load(auth.usersFile());
            } catch (ConfigException e) {
                throw new ConfigException(e.problems().stream().map(problem -> "auth.users_file: " + problem)
                        .toList());
            }
        }
    }

    /**
     * @param baseDir relative paths in the file resolve against it
     * @param env     looks up environment variables; null for an unset one
     */
    public static ProxyConfig parse(String yaml, Path baseDir, Function<String, String> env) throws ConfigException {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new ConfigException(List.of("YAML syntax error" + where + ": " + e.getOriginalMessage()));
        }
        ConfigReader reader = new ConfigReader(baseDir, env);
        ProxyConfig config = reader.read(root);
        if (!reader.problems().isEmpty()) {
            throw new ConfigException(reader.problems());
        }
        return config;
    }
}
