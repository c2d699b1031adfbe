package io.pgstitch.proxy.http;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class JsonOutTest {

    @Test
    void commasNestingAndEscapes() {
        JsonOut json = new JsonOut(1).beginObject().name("a").number(1).name("b").beginArray()
                .string("x\"y\\z\n\u0002").nullValue().bool(true).beginObject().endObject().endArray()
                .optional("skipped", null).optional("c", "é€😀").name("d").raw("{\"k\":1}").endObject();
        assertThat(json.toString()).isEqualTo(
                "{\"a\":1,\"b\":[\"x\\\"y\\\\z\\n\\u0002\",null,true,{}],\"c\":\"é€😀\",\"d\":{\"k\":1}}");
        ByteBuf buffer = json.newline().toBuffer();
        assertThat(buffer.toString(StandardCharsets.UTF_8)).isEqualTo(json.toString()).endsWith("}\n");
        buffer.release();
    }

    @Test
    void utf8BytesAreEscapedAsBytes() {
        byte[] in = "--\"é\t€\\\u001f--".getBytes(StandardCharsets.UTF_8);
        JsonOut json = new JsonOut().beginArray().utf8String(in, 2, in.length - 4).endArray();
        assertThat(json.toString()).isEqualTo("[\"\\\"é\\t€\\\\\\u001f\"]");
    }
}
