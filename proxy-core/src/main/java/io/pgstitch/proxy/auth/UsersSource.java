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
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code auth.users_file}, read again when it changes: each login asks {@link #current()}, a volatile read;
 * {@link #refresh()}, called off the event loops by whoever watches files, looks at the file's modification time
 * and size and re-reads it when either moved. A file that no longer reads cleanly is logged with its problems and
 * the previous contents stay in force, as a broken configuration reload does.
 */
final class UsersSource {

    private static final Logger log = LoggerFactory.getLogger(UsersSource.class);

    /**
     * One reading of the file, with the SCRAM verifiers of its users: parsed from SCRAM secrets, and derived from
     * plaintext ones now (4096 PBKDF2 rounds each, with the salt an unknown user of that name gets), so that no
     * login pays for a derivation an unknown user's login would not.
     */
    record Users(UsersFile file, boolean mostlyScram, Map<String, ScramVerifier> scram) {

        static Users of(UsersFile file, byte[] mockSecret) {
            Map<String, ScramVerifier> scram = new HashMap<>();
            for (String user : file.users()) {
                ScramVerifier verifier = verifier(user, file.secret(user), mockSecret);
                if (verifier != null) {
                    scram.put(user, verifier);
                }
            }
            long stored = file.users().stream().filter(user -> file.secret(user) instanceof UserSecret.Scram).count();
            return new Users(file, stored * 2 >= file.users().size(), Map.copyOf(scram));
        }

        /**
         * The SCRAM verifier a secret answers with: parsed from a SCRAM secret, derived from a plaintext one (4096
         * PBKDF2 rounds, with the salt an unknown user of that name gets); null for an md5 hash.
         */
        static ScramVerifier verifier(String user, UserSecret secret, byte[] mockSecret) {
            if (secret instanceof UserSecret.Scram stored) {
                return ScramVerifier.parse(stored.text());
            }
            if (secret instanceof UserSecret.Plain plain) {
                return ScramVerifier.fromPassword(plain.text(), ScramVerifier.mockSalt(mockSecret, user),
                        ScramVerifier.DEFAULT_ITERATIONS);
            }
            return null;
        }

        UserSecret secret(String user) {
            return file.secret(user);
        }

        /** What the users file knows of {@code user}. */
        LoginExchange.Known known(String user) {
            return new LoginExchange.Known(file.secret(user), scram.get(user), mostlyScram);
        }

        /** The user's SCRAM verifier; null for an unknown user or one with an md5 hash. */
        ScramVerifier scramVerifier(String user) {
            return scram.get(user);
        }
    }

    private final Path path;
    private final byte[] mockSecret;
    private volatile Users users;
    private volatile FileTime modified;
    private volatile long size;

    private UsersSource(Path path, byte[] mockSecret, Users users, BasicFileAttributes read) {
        this.path = path;
        this.mockSecret = mockSecret;
        this.users = users;
        this.modified = read.lastModifiedTime();
        this.size = read.size();
    }

    /**
     * Reads the file now; its problems are the caller's (at start: refuse to start).
     *
     * @param mockSecret the secret unknown users' salts come from; plaintext secrets are derived with the same
     */
    static UsersSource load(Path path, byte[] mockSecret) throws ConfigException {
        BasicFileAttributes attributes = attributes(path);
        return new UsersSource(path, mockSecret, Users.of(UsersFile.load(path), mockSecret), attributes);
    }

    Path path() {
        return path;
    }

    /** The file's contents in force. */
    Users current() {
        return users;
    }

    /** Re-reads the file if it changed since the last look. Blocking file I/O: never on an event loop. */
    void refresh() {
        BasicFileAttributes now;
        try {
            now = attributes(path);
        } catch (ConfigException e) {
            log.warn("users file {} not reloaded, keeping the previous one: {}", path, e.getMessage());
            return;
        }
        if (changed(now)) {
            reload(now);
        }
    }

    private boolean changed(BasicFileAttributes now) {
        return !now.lastModifiedTime().equals(modified) || now.size() != size;
    }

    private synchronized void reload(BasicFileAttributes now) {
        if (!changed(now)) {
            return; // another event loop got here first
        }
        modified = now.lastModifiedTime();
        size = now.size();
        try {
            UsersFile file = UsersFile.load(path);
            users = Users.of(file, mockSecret);
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
            throw new ConfigException(List.of(path + ": cannot be read: " + e));
        }
    }
}
