package io.pgstitch.conf;

import java.nio.file.Path;

/** {@code auth}: the method clients use and the PgBouncer-format users file (null when none). */
public record AuthConfig(AuthMethod method, Path usersFile) {
}
