package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;
import io.pgstitch.protocol.ProtocolVersion;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * StartupMessage: {@code Int32(len) Int32(protocol version) (String name, String value)* Byte1(0)} — no type
 * byte. Names starting with {@code _pq_.} are protocol options, everything else a session parameter.
 */
public record StartupMessage(int protocolVersion, Map<String, String> parameters) implements FrontendMessage {

    public StartupMessage {
        parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
    }

    /**
     * Decodes the body after the length field. As PostgreSQL does, the packet must end exactly at the
     * terminator that follows the last value. A name given twice is refused (FATAL {@code 08P01}), where
     * PostgreSQL keeps the last {@code user} or {@code database} and applies every setting in turn: a proxy that
     * read one value while the shard used another would route or authorize the wrong user, and libpq and the
     * common drivers send each name once.
     */
    public static StartupMessage decode(ByteBuf body) {
        int version = Buffers.readInt(body, "StartupMessage");
        Map<String, String> parameters = new LinkedHashMap<>();
        while (true) {
            if (!body.isReadable()) {
                throw Buffers.violation("startup packet layout: expected terminator as last byte");
            }
            String name = Buffers.readCString(body, "startup parameter name");
            if (name.isEmpty()) {
                break;
            }
            String value = Buffers.readCString(body, "value of startup parameter \"" + name + "\"");
            if (parameters.putIfAbsent(name, value) != null) {
                throw Buffers.violation("startup parameter \"" + name + "\" appears more than once");
            }
        }
        Buffers.expectEnd(body, "StartupMessage");
        return new StartupMessage(version, parameters);
    }

    public String parameter(String name) {
        return parameters.get(name);
    }

    public String user() {
        return parameters.get("user");
    }

    /** The database asked for; PostgreSQL defaults it to the user name. */
    public String database() {
        String database = parameters.get("database");
        return database == null || database.isEmpty() ? user() : database;
    }

    /** The {@code _pq_.} protocol options asked for, in order. */
    public List<String> protocolOptions() {
        List<String> options = new ArrayList<>();
        for (String name : parameters.keySet()) {
            if (name.startsWith("_pq_.")) {
                options.add(name);
            }
        }
        return options;
    }

    public int majorVersion() {
        return ProtocolVersion.major(protocolVersion);
    }

    public int minorVersion() {
        return ProtocolVersion.minor(protocolVersion);
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = out.writerIndex();
        out.writeInt(0);
        out.writeInt(protocolVersion);
        parameters.forEach((name, value) -> {
            Buffers.writeCString(out, name);
            Buffers.writeCString(out, value);
        });
        out.writeByte(0);
        out.setInt(lengthIndex, out.writerIndex() - lengthIndex);
    }
}
