package io.pgstitch.proxy.postgres;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;

/**
 * The account initdb and postgres run under. PostgreSQL refuses to run as root ("initdb: cannot be run as
 * root"), so when this JVM's effective uid is 0 (CI, containers) the servers run as {@code nobody}: through
 * util-linux's {@code setpriv}, or {@code runuser} where setpriv is missing, in directories owned by nobody.
 * Otherwise they run as this JVM's user, unwrapped.
 */
final class ServerUser {

    static final String NOBODY = "nobody";
    private static final String PROC_STATUS = "/proc/self/status";

    private final boolean asNobody;
    private final List<String> prefix;

    ServerUser(boolean root, boolean setprivOnPath) {
        this.asNobody = root;
        if (!root) {
            prefix = List.of();
        } else if (setprivOnPath) {
            prefix = List.of("setpriv", "--reuid=" + NOBODY, "--regid=nogroup", "--clear-groups", "--reset-env", "--");
        } else {
            prefix = List.of("runuser", "-u", NOBODY, "--");
        }
    }

    /** The account for this JVM: nobody when it is root, else its own. */
    static ServerUser current() {
        return new ServerUser(isRoot(), onPath("setpriv"));
    }

    boolean asNobody() {
        return asNobody;
    }

    /** {@code command} as it must be started: prefixed with setpriv or runuser when the servers run as nobody. */
    List<String> command(List<String> command) {
        List<String> wrapped = new ArrayList<>(prefix);
        wrapped.addAll(command);
        return wrapped;
    }

    /** Hands {@code dir} to the server's account, so that initdb and postgres may write in it. */
    void own(Path dir) throws IOException {
        if (asNobody) {
            UserPrincipalLookupService users = dir.getFileSystem().getUserPrincipalLookupService();
            Files.setOwner(dir, users.lookupPrincipalByName(NOBODY));
        }
    }

    static boolean isRoot() {
        try {
            return effectiveUidIsRoot(Files.readAllLines(Path.of(PROC_STATUS)));
        } catch (IOException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name")); // no procfs: not Linux, or locked down
        }
    }

    /**
     * Reads the effective uid from {@code /proc/self/status}, whose line is
     * {@code Uid:<TAB>real<TAB>effective<TAB>saved<TAB>filesystem}; the effective one is what the kernel checks
     * and what PostgreSQL's "cannot be run as root" test looks at ({@code geteuid()}).
     */
    static boolean effectiveUidIsRoot(List<String> procStatus) {
        for (String line : procStatus) {
            if (line.startsWith("Uid:")) {
                String[] ids = line.substring("Uid:".length()).trim().split("\\s+");
                if (ids.length < 2) {
                    throw new IllegalArgumentException("unexpected " + PROC_STATUS + " line: " + line);
                }
                return ids[1].equals("0");
            }
        }
        throw new IllegalArgumentException(PROC_STATUS + " has no Uid: line");
    }

    static boolean onPath(String binary) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, binary))) {
                return true;
            }
        }
        return false;
    }
}
