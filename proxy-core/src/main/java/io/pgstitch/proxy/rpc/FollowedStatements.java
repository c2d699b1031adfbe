package io.pgstitch.proxy.rpc;

import io.pgstitch.sqlsplit.ClientEncoding;
import io.pgstitch.sqlsplit.SqlStatement;
import io.pgstitch.sqlsplit.StatementKind;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The session's prepared statements (the client's names, one char per byte) that are a SAVEPOINT, RELEASE,
 * ROLLBACK TO or COMMIT, and the portals bound from them in the batch under way, with what the kept connection does
 * to follow each ({@link StitchStep.OnKept}). Kept whether or not a connection is kept, since PgJDBC prepares its
 * COMMIT once it has run it a few times and then only binds it; their messages go to the session backend as they
 * came. Apart from {@link RpcRouter} so that what it follows reads apart from where it routes. Session loop only.
 */
final class FollowedStatements {

    private final RpcSettings settings;
    private final Map<String, StitchStep.OnKept> statements = new HashMap<>();
    private final Map<String, StitchStep.OnKept> portals = new HashMap<>();

    FollowedStatements(RpcSettings settings) {
        this.settings = settings;
    }

    /**
     * A Parse of {@code statement}, which does not concern an RPC connection: what the kept connection does to follow
     * its {@code query} (the client's bytes), remembered; null when nothing.
     *
     * @param encoding the session's, or null when pgstitch does not know it
     */
    StitchStep.OnKept parsed(String statement, String query, ClientEncoding encoding,
                             boolean standardConformingStrings) {
        StitchStep.OnKept follow = followed(query, encoding, standardConformingStrings);
        if (follow != null) {
            statements.put(statement, follow);
        }
        return follow;
    }

    /** A Bind of {@code portal} from {@code statement}: what the kept connection follows, remembered; or null. */
    StitchStep.OnKept bound(String portal, String statement) {
        StitchStep.OnKept follow = statements.get(statement);
        if (follow != null) {
            portals.put(portal, follow);
        }
        return follow;
    }

    StitchStep.OnKept statement(String name) {
        return statements.get(name);
    }

    StitchStep.OnKept portal(String name) {
        return portals.get(name);
    }

    void forgetStatement(String name) {
        statements.remove(name);
    }

    void forgetPortal(String name) {
        portals.remove(name);
    }

    /** The batch is over: so are its portals. */
    void clearPortals() {
        portals.clear();
    }

    /**
     * What the kept connection does to follow the statement a Parse prepares, when that is a SAVEPOINT, RELEASE,
     * ROLLBACK TO or COMMIT; null otherwise. Only a text whose first word may be one of these is analysed.
     */
    private StitchStep.OnKept followed(String bytes, ClientEncoding encoding, boolean standardConformingStrings) {
        if (encoding == null || !mayControlTransaction(bytes)) {
            return null;
        }
        List<SqlStatement> statements = settings.analyzer().analyze(bytes, encoding, standardConformingStrings)
                .statements();
        SqlStatement only = statements.size() == 1 ? statements.get(0) : null;
        StitchStep.OnKept.Follows follows = only == null || only.kind() != StatementKind.TRANSACTION_CONTROL ? null
                : QueryPlanner.follows(only);
        return follows == null ? null : new StitchStep.OnKept(follows, only.name());
    }

    /**
     * Whether the first word of {@code bytes} may begin a SAVEPOINT, RELEASE, ROLLBACK TO or COMMIT (END): a cheap
     * look, so that other Parses are not analysed; a text that begins with a comment may.
     */
    static boolean mayControlTransaction(String bytes) {
        int at = 0;
        while (at < bytes.length() && " \t\n\r\f".indexOf(bytes.charAt(at)) >= 0) {
            at++;
        }
        if (bytes.startsWith("--", at) || bytes.startsWith("/*", at)) {
            return true;
        }
        int start = at;
        while (at < bytes.length() && (bytes.charAt(at) | 0x20) >= 'a' && (bytes.charAt(at) | 0x20) <= 'z') {
            at++;
        }
        String word = bytes.substring(start, at);
        return word.equalsIgnoreCase("savepoint") || word.equalsIgnoreCase("release")
                || word.equalsIgnoreCase("rollback") || word.equalsIgnoreCase("commit")
                || word.equalsIgnoreCase("end");
    }
}
