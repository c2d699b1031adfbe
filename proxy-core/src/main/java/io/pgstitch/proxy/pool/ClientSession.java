package io.pgstitch.proxy.pool;

import io.pgstitch.conf.PoolConfig;
import io.pgstitch.sqlsplit.ClientEncoding;
import io.pgstitch.sqlsplit.QueryAnalyzer;
import io.pgstitch.sqlsplit.RpcFunctionMatcher;
import io.pgstitch.sqlsplit.SqlStatement;
import io.pgstitch.sqlsplit.StatementKind;
import io.pgstitch.sqlsplit.TransactionCommand;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a client's session holds apart from the backend that serves it at the moment: its binding policy, its named
 * prepared statements and session settings (transaction and statement modes), and what its statements showed:
 * settings changed since they were last read, placeholder variables defined, a session-only feature used. Reads
 * each Query and Parse text the client sends (through the same lexer as RPC detection). Session loop only.
 */
public final class ClientSession {

    /** What a statement the client sent means for its binding. */
    public record Verdict(String refusal, boolean forgetsPreparedStatements) {
        static final Verdict PASS = new Verdict(null, false);
    }

    private static final QueryAnalyzer ANALYZER = new QueryAnalyzer(new RpcFunctionMatcher(List.of()), 4096);
    private static final Pattern SET_CONFIG = Pattern.compile("set_config\\s*\\(\\s*('([^'\\\\]*)')?",
            Pattern.CASE_INSENSITIVE);

    private final BindingPolicy policy;
    private final PoolConfig.SessionFeatures sessionFeatures;
    private final PreparedStatements statements = new PreparedStatements();
    private final SessionSettings settings = new SessionSettings();
    /** Dotted names the client has set: perhaps placeholders, which only a read by name can see. */
    private final Set<String> placeholderCandidates = new HashSet<>();
    /** Settings may have changed since they were last read (SET, RESET, set_config, DISCARD, startup settings). */
    private boolean settingsChanged;
    /** set_config with a computed name: a placeholder may exist that no read can find. */
    private boolean unknownPlaceholder;
    /** The session-only feature that pins the client to its backend; null while it has used none. */
    private String pinnedBy;

    public ClientSession(PoolConfig pool) {
        this.policy = BindingPolicy.of(pool.mode());
        this.sessionFeatures = pool.sessionFeatures();
    }

    public BindingPolicy policy() {
        return policy;
    }

    /** Whether the backend goes back to the pool when a transaction ends: the mode says so and nothing pins. */
    public boolean releasesWhenIdle() {
        return policy.releasesWhenIdle() && pinnedBy == null;
    }

    /** The feature that pins the client to its backend, or null. */
    public String pinnedBy() {
        return pinnedBy;
    }

    /** Null in session mode: statements keep their client's names there. */
    public PreparedStatements preparedStatements() {
        return policy.releasesWhenIdle() ? statements : null;
    }

    public SessionSettings settings() {
        return settings;
    }

    /** The client's startup settings were applied with set_config: they are session settings now. */
    public void startupSettingsApplied() {
        settingsChanged = true;
    }

    /** Whether the settings must be read back before the backend goes to another client. */
    public boolean settingsChanged() {
        return settingsChanged;
    }

    /**
     * The query that reads the settings back (see {@link SessionSettings#readQuery}); from now on, only what the
     * client sends after it counts as a change.
     */
    public String takeSettingsQuery() {
        settingsChanged = false;
        return SessionSettings.readQuery(placeholderCandidates);
    }

    /** The settings were read back: rows of {@link #takeSettingsQuery()}. */
    public void settingsRead(List<SessionSettings.Row> rows) {
        settings.replaceWith(rows);
    }

    /**
     * Whether a backend this client used cannot go to another client: it defined placeholder variables, which
     * survive every reset as empty strings where PostgreSQL would say NULL (in transaction mode such a backend
     * goes only to clients that have defined the same ones).
     */
    public boolean leavesPlaceholders() {
        return unknownPlaceholder || !placeholderCandidates.isEmpty();
    }

    /** Whether {@code backend} can serve this client (see {@link SessionSettings#canUse}). */
    public boolean canUse(PooledBackend backend) {
        return !unknownPlaceholder && settings.canUse(backend.settings());
    }

    /**
     * Reads a Query's or Parse's text (the client's bytes, one char per byte): notes what changes settings, what
     * pins, and says whether it must be refused instead (by name, in the client's mode).
     *
     * @param encoding the session's client_encoding as the backend reported it
     */
    public Verdict inspect(String bytes, String encoding, boolean standardConformingStrings) {
        if (!policy.releasesWhenIdle() && !mayDefinePlaceholder(bytes)) {
            return Verdict.PASS; // session mode watches only for placeholders, and cheaply
        }
        ClientEncoding clientEncoding = ClientEncoding.of(encoding);
        if (clientEncoding == null) {
            clientEncoding = ClientEncoding.UTF8;
        }
        boolean forgets = false;
        for (SqlStatement statement : ANALYZER.analyze(bytes, clientEncoding, standardConformingStrings).statements()) {
            String refusal = note(statement, bytes);
            if (refusal != null) {
                return new Verdict(refusal, false);
            }
            forgets |= statement.kind() == StatementKind.DISCARD && "all".equals(statement.name())
                    || statement.kind() == StatementKind.DEALLOCATE && statement.name() == null;
        }
        return forgets ? new Verdict(null, true) : Verdict.PASS;
    }

    private String note(SqlStatement statement, String bytes) {
        StatementKind kind = statement.kind();
        if (policy instanceof BindingPolicy.Statement && statement.transaction() == TransactionCommand.BEGIN) {
            return "transaction blocks are not allowed in statement pooling mode";
        }
        String name = statement.name();
        if (kind == StatementKind.SET || kind == StatementKind.RESET || kind == StatementKind.DISCARD) {
            settingsChanged = true;
            if (name != null && name.indexOf('.') > 0) {
                placeholderCandidates.add(name);
            }
        }
        String feature = sessionFeature(statement);
        if ("calls set_config".equals(feature)) {
            settingsChanged = true;
            Matcher call = SET_CONFIG.matcher(statement.text(bytes));
            while (call.find()) {
                if (call.group(2) == null) {
                    unknownPlaceholder = true;
                } else if (call.group(2).indexOf('.') > 0) {
                    placeholderCandidates.add(call.group(2).toLowerCase(Locale.ROOT));
                }
            }
            return null;
        }
        if (feature == null || !policy.releasesWhenIdle() || pinnedBy != null) {
            return null;
        }
        if (sessionFeatures == PoolConfig.SessionFeatures.ERROR) {
            return "a statement that " + feature + " is not allowed in " + policy.modeName() + " pooling mode";
        }
        pinnedBy = feature;
        return null;
    }

    /** What in a statement needs the same backend for the rest of the session, as a phrase; null if nothing. */
    private static String sessionFeature(SqlStatement statement) {
        return switch (statement.kind()) {
            case LISTEN -> "listens for notifications (LISTEN)";
            case PREPARE -> "prepares a statement with SQL PREPARE";
            case SET -> "session_authorization".equals(statement.name()) ? "sets the session authorization" : null;
            default -> statement.sessionEffect() == null ? null : statement.sessionEffect();
        };
    }

    /** A cheap first look, for session mode: a placeholder is set only by a text with SET or set_config and a dot. */
    private static boolean mayDefinePlaceholder(String bytes) {
        return bytes.indexOf('.') >= 0 && (bytes.contains("set") || bytes.contains("SET") || bytes.contains("Set"));
    }

    /**
     * Whether a Query or Parse body ({@code message}, not consumed) needs {@link #inspect}: always in transaction and
     * statement modes; in session mode only when it has a dot and the letters "set" in any case (a placeholder
     * variable can be defined by nothing else), decided on the bytes without decoding them.
     */
    public boolean needsInspection(io.netty.buffer.ByteBuf message) {
        if (policy.releasesWhenIdle()) {
            return true;
        }
        int from = message.readerIndex();
        int to = message.writerIndex();
        if (message.indexOf(from, to, (byte) '.') < 0) {
            return false;
        }
        for (int i = from; i + 2 < to; i++) {
            if ((message.getByte(i) | 0x20) == 's' && (message.getByte(i + 1) | 0x20) == 'e'
                    && (message.getByte(i + 2) | 0x20) == 't') {
                return true;
            }
        }
        return false;
    }
}
