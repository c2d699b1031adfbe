package io.pgstitch.proxy.rpc;

import io.pgstitch.sqlsplit.ClientEncoding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;

/**
 * What a session's {@code client_encoding}, as last reported, means to the analyzer, or null when pgstitch does
 * not know it: the session's texts then go to its backend untouched, which is said once per session. Apart from
 * {@link RpcRouter}, which asks at each Query and Parse. Session loop only.
 */
final class SessionEncoding {

    private static final Logger log = LoggerFactory.getLogger(SessionEncoding.class);

    private String name;
    private ClientEncoding encoding;
    private boolean toldUnknown;

    /** @param name the client_encoding as reported (e.g. {@code UTF8}, {@code LATIN1}) */
    ClientEncoding of(String name) {
        if (!Objects.equals(name, this.name)) {
            this.name = name;
            encoding = ClientEncoding.of(name);
            if (encoding == null && !toldUnknown) {
                toldUnknown = true;
                log.info("client_encoding {} is unknown to pgstitch: this session's queries go to its backend"
                        + " untouched, RPC calls included", name);
            }
        }
        return encoding;
    }
}
