package io.pgstitch.conf;

import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code auth}: the method clients use, the PgBouncer-format users file (null when none), and how long a client
 * may take from connecting to being logged in ({@code auth_timeout}, default 15 s) before it is closed.
 */
public record AuthConfig(AuthMethod method, Path usersFile, Duration timeout) {
}
