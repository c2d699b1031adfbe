package io.pgstitch.proxy.auth;

import io.pgstitch.conf.ConfigException;
import io.pgstitch.conf.UserSecret;
import io.pgstitch.conf.UsersFile;
import io.pgstitch.protocol.auth.ScramVerifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code auth.users_file}, read again when it changes: each login asks {@link #current()}, which looks at the
 * file's modification time and size (one stat) and re-reads it when either moved. A file that no longer reads
 * cleanly is logged with its problems and the previous contents stay in force, as a broken configuration
 * reload does.
 */
final class UsersSource {

    private static final Logger log = LoggerFactory.getLogger(UsersSource.class);

    /** One reading of the file, with what logins derive from it. */
    record Users(UsersFile file, boolean mostlyScram, Map<String, ScramVerifier> derived) {

        static Users of(UsersFile file) {
            long scram = file.users().stream().filter(user -> file.secret(user) instanceof UserSecret.Scram).count();
            return new Users(file, scram * 2 >= file.users().size(), new ConcurrentHashMap<>());
        }

        UserSecret secret(String user) {
            return file.secret(user);
        }
    }

    private final Path path;
    private volatile Users users;
    private FileTime modified;
    private long size;

    private UsersSource(Path path, Users users, BasicFileAttributes read) {
        this.path = path;
        this.users = users;
        this.modified = read.lastModifiedTime();
        this.size = read.size();
    }

    /** Reads the file now; its problems are the caller's (at start: refuse to start). */
    static UsersSource load(Path path) throws ConfigException {
        BasicFileAttributes attributes = attributes(path);
        return new UsersSource(path, Users.of(UsersFile.load(path)), attributes);
    }

    Path path() {
        return path;
    }

    /** The file's contents in force, re-read first if it changed since the last look. */
    Users current() {
        reloadIfChanged();
        return users;
    }

    private synchronized void reloadIfChanged() {
        BasicFileAttributes now;
        try {
            now = attributes(path);
        } catch (ConfigException e) {
            log.warn("users file {} not reloaded, keeping the previous one: {}", path, e.getMessage());
            return;
        }
        if (Objects.equals(now.lastModifiedTime(), modified) && now.size() == size) {
            return;
        }
        modified = now.lastModifiedTime();
        size = now.size();
        try {
            UsersFile file = UsersFile.load(path);
            users = Users.of(file);
            log.info("users file {} reloaded: {} users", path, file.users().size());
        } catch (ConfigException e) {
            log.warn("users file {} not reloaded, keeping the previous one:\n  {}", path,
                    String.join("\n  ", e.problems()));
        }
    }

    private static BasicFileAttributes attributes(Path path) throws ConfigException {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class);
        } catch (IOException e) {
            throw new ConfigException(java.util.List.of(path + ": cannot be read: " + e));
        }
    }
}
