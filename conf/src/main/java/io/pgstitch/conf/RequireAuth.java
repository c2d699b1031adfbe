package io.pgstitch.conf;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code shards.NAME.require_auth}, as libpq's: the authentication methods the shard may use, a comma-separated
 * list ({@code scram-sha-256,md5}) or a list of refused ones ({@code !password,!none}). {@code none} is a shard
 * that logs pgstitch in without asking for anything. A login by any other method is refused before a password is
 * sent, so a shard (or whoever impersonates it) cannot downgrade pgstitch to cleartext or skip authentication.
 *
 * @param methods the methods listed, without their {@code !}
 * @param negated whether the list names refused methods rather than allowed ones
 */
public record RequireAuth(Set<String> methods, boolean negated) {

    /** The methods pgstitch can answer, spelled as libpq spells them. */
    public static final List<String> METHODS = List.of("password", "md5", "scram-sha-256", "none");

    /** The default when pgstitch has a password for the user: any password method, never none. */
    public static final RequireAuth SOME_PASSWORD = new RequireAuth(Set.of("none"), true);

    public RequireAuth {
        methods = Set.copyOf(methods);
    }

    /** @throws IllegalArgumentException naming the method that is unknown, or a mix of listed and negated ones */
    public static RequireAuth parse(String text) {
        Set<String> methods = new LinkedHashSet<>();
        Boolean negated = null;
        for (String item : text.split(",", -1)) {
            String method = item.trim();
            boolean not = method.startsWith("!");
            if (not) {
                method = method.substring(1);
            }
            if (negated != null && negated != not) {
                throw new IllegalArgumentException("negative and positive methods cannot be mixed");
            }
            negated = not;
            if (!METHODS.contains(method)) {
                throw new IllegalArgumentException("unknown or unsupported method \"" + method + "\" (one of "
                        + String.join(", ", METHODS) + ", each optionally with !)");
            }
            if (!methods.add(method)) {
                throw new IllegalArgumentException("method \"" + method + "\" is listed twice");
            }
        }
        return new RequireAuth(methods, negated);
    }

    public boolean allows(String method) {
        return methods.contains(method) != negated;
    }

    @Override
    public String toString() {
        return (negated ? "!" : "") + String.join(negated ? ",!" : ",", methods);
    }
}
