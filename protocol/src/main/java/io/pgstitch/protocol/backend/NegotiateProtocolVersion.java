package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

import java.util.ArrayList;
import java.util.List;

/**
 * NegotiateProtocolVersion: {@code Byte1('v') Int32(len) Int32(newest minor version) Int32(n) String[n]
 * (unrecognized _pq_ options)}. Sent at most once, before authentication.
 */
public record NegotiateProtocolVersion(int newestMinorVersion, List<String> unrecognizedOptions)
        implements BackendMessage {

    public static final char TYPE = 'v';

    public NegotiateProtocolVersion {
        unrecognizedOptions = List.copyOf(unrecognizedOptions);
    }

    public static NegotiateProtocolVersion decode(ByteBuf body) {
        int minor = Buffers.readInt(body, "NegotiateProtocolVersion");
        int count = Buffers.readInt(body, "NegotiateProtocolVersion option count");
        // Each option takes at least one byte (its terminator): never trust a count beyond that.
        if (count < 0 || count > body.readableBytes()) {
            throw Buffers.violation("NegotiateProtocolVersion option count " + count);
        }
        List<String> options = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            options.add(Buffers.readCString(body, "NegotiateProtocolVersion option"));
        }
        Buffers.expectEnd(body, "NegotiateProtocolVersion");
        return new NegotiateProtocolVersion(minor, options);
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Buffers.beginMessage(out, TYPE);
        out.writeInt(newestMinorVersion);
        out.writeInt(unrecognizedOptions.size());
        unrecognizedOptions.forEach(option -> Buffers.writeCString(out, option));
        Buffers.endMessage(out, length);
    }
}
