package io.pgstitch.protocol.auth;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ScramVerifierTest {

    // Made by PostgreSQL 15: SET password_encryption = 'scram-sha-256'; CREATE ROLE a PASSWORD 'pencil';
    // SELECT rolpassword FROM pg_authid WHERE rolname = 'a';
    private static final String PG_PENCIL = "SCRAM-SHA-256$4096:YrtXAftP3UJLejvwLtKf+Q==$"
            + "k1CKTvlfirZuxc1MNsGQPehz87E1tclEesK/eS3R16U=:/pKKnopwGAk1O1OCvDG3VIuqF8ii4hV7wkCktPaB4g8=";
    // The same for the password 'pässwörd "q' (non-ASCII, already in NFKC form, so SASLprep leaves it alone).
    private static final String PG_UMLAUTS = "SCRAM-SHA-256$4096:0WVfNuE3oa0YQ/1325rgSA==$"
            + "UqyypS8f6n3liE2NJk/TAS/wYXMNAYkkM68blKGYwmM=:GYCaisXLouuKGTgFjAeLYtuUyN1lm3Tt3QYA+FsERYU=";

    @Test
    void computesExactlyWhatPostgresStores() {
        ScramVerifier stored = ScramVerifier.parse(PG_PENCIL);
        assertThat(stored.iterations()).isEqualTo(4096);
        assertThat(ScramVerifier.fromPassword("pencil", stored.salt(), 4096).encoded()).isEqualTo(PG_PENCIL);
        ScramVerifier umlauts = ScramVerifier.parse(PG_UMLAUTS);
        assertThat(ScramVerifier.fromPassword("pässwörd \"q", umlauts.salt(), 4096)).isEqualTo(umlauts);
    }

    @Test
    void parseAndEncodeRoundTrip() {
        assertThat(ScramVerifier.parse(PG_PENCIL).encoded()).isEqualTo(PG_PENCIL);
        assertThat(ScramVerifier.parse(PG_PENCIL)).isEqualTo(ScramVerifier.parse(PG_PENCIL))
                .hasSameHashCodeAs(ScramVerifier.parse(PG_PENCIL));
    }

    @Test
    void aRandomSaltOf16BytesAnd4096Iterations() {
        ScramVerifier a = ScramVerifier.fromPassword("pencil");
        ScramVerifier b = ScramVerifier.fromPassword("pencil");
        assertThat(a.salt()).hasSize(16);
        assertThat(a.iterations()).isEqualTo(4096);
        assertThat(a.salt()).isNotEqualTo(b.salt());
        assertThat(ScramVerifier.parse(a.encoded())).isEqualTo(a);
    }

    @Test
    void toStringShowsNoKeyAndNoSalt() {
        ScramVerifier verifier = ScramVerifier.parse(PG_PENCIL);
        assertThat(verifier.toString()).contains("4096").doesNotContain("k1CK").doesNotContain("/pKK")
                .doesNotContain("YrtX").doesNotContain("[B@");
    }

    @Test
    void accessorsReturnCopies() {
        ScramVerifier verifier = ScramVerifier.parse(PG_PENCIL);
        verifier.storedKey()[0] ^= 1;
        verifier.salt()[0] ^= 1;
        assertThat(verifier.encoded()).isEqualTo(PG_PENCIL);
    }

    @Test
    void malformedSecretsAreRefusedWithoutEchoingThem() {
        String keys = "k1CKTvlfirZuxc1MNsGQPehz87E1tclEesK/eS3R16U=:/pKKnopwGAk1O1OCvDG3VIuqF8ii4hV7wkCktPaB4g8=";
        String[][] cases = {
                {"md5a2286e2058e8275f4419293789626063", "does not start with SCRAM-SHA-256$"},
                {"SCRAM-SHA-256$4096:YrtXAftP3UJLejvwLtKf+Q==", "two '$'-separated parts"},
                {"SCRAM-SHA-256$4096:YrtXAftP3UJLejvwLtKf+Q==$" + keys + "$x", "two '$'-separated parts"},
                {"SCRAM-SHA-256$4096$" + keys, "ITERATIONS:SALT$STORED_KEY:SERVER_KEY"},
                {"SCRAM-SHA-256$4096:c2FsdA==$k1CKTvlfirZuxc1MNsGQPehz87E1tclEesK/eS3R16U=",
                        "ITERATIONS:SALT$STORED_KEY:SERVER_KEY"},
                {"SCRAM-SHA-256$0:c2FsdA==$" + keys, "not a positive whole number"},
                {"SCRAM-SHA-256$-1:c2FsdA==$" + keys, "not a positive whole number"},
                {"SCRAM-SHA-256$04096:c2FsdA==$" + keys, "not a positive whole number"},
                {"SCRAM-SHA-256$abc:c2FsdA==$" + keys, "not a positive whole number"},
                {"SCRAM-SHA-256$99999999999:c2FsdA==$" + keys, "not a positive whole number"},
                {"SCRAM-SHA-256$2147483647:c2FsdA==$" + keys, "outside 1..1000000"},
                {"SCRAM-SHA-256$4096:$" + keys, "the salt is empty"},
                {"SCRAM-SHA-256$4096:!!!!$" + keys, "the salt is not valid base64"},
                {"SCRAM-SHA-256$4096:c2FsdA==$k1CK:/pKKnopwGAk1O1OCvDG3VIuqF8ii4hV7wkCktPaB4g8=", "32 bytes"},
                {"SCRAM-SHA-256$4096:c2FsdA==$k1CKTvlfirZuxc1MNsGQPehz87E1tclEesK/eS3R16U=:%%%", "ServerKey is not"},
                {"scram-sha-256$4096:c2FsdA==$" + keys, "does not start with"},
        };
        for (String[] c : cases) {
            assertThatThrownBy(() -> ScramVerifier.parse(c[0])).as(c[0])
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("malformed SCRAM-SHA-256 secret: ").hasMessageContaining(c[1])
                    .message().doesNotContain("k1CK").doesNotContain("pKKn").doesNotContain("c2FsdA");
        }
    }

    @Test
    void mockVerifiersAreStablePerUserAndLookReal() {
        byte[] secret = "server secret".getBytes(StandardCharsets.UTF_8);
        ScramVerifier alice = ScramVerifier.mock(secret, "alice");
        assertThat(ScramVerifier.mock(secret, "alice")).isEqualTo(alice);
        assertThat(alice.salt()).hasSize(16).isNotEqualTo(ScramVerifier.mock(secret, "bob").salt())
                .isNotEqualTo(ScramVerifier.mock("other".getBytes(StandardCharsets.UTF_8), "alice").salt())
                .isEqualTo(ScramVerifier.mockSalt(secret, "alice"));
        assertThat(alice.iterations()).isEqualTo(ScramVerifier.DEFAULT_ITERATIONS);
        assertThat(alice.isMock()).isTrue();
        assertThat(ScramVerifier.fromPassword("pencil", alice.salt(), 4096).isMock()).isFalse();
        assertThat(Base64.getEncoder().encodeToString(alice.salt())).hasSize(24);
    }

    @Test
    void passwordsAreSaslPreppedAsPostgresDoes() {
        byte[] salt = ScramVerifier.parse(PG_PENCIL).salt();
        assertThat(ScramVerifier.fromPassword("pass\u00A0word", salt, 4096))
                .isEqualTo(ScramVerifier.fromPassword("pass word", salt, 4096));
        assertThat(ScramVerifier.fromPassword("a\u0308", salt, 4096))
                .isEqualTo(ScramVerifier.fromPassword("\u00E4", salt, 4096));
        assertThat(ScramVerifier.fromPassword("pa\u00ADss", salt, 4096))
                .isEqualTo(ScramVerifier.fromPassword("pass", salt, 4096));
        assertThat(Passwords.verifyCleartext("u", ScramVerifier.fromPassword("pass word", salt, 4096).encoded(),
                "pass\u00A0word")).as("method password checks the prepared form too").isTrue();
    }
}
