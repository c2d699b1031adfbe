package io.pgstitch.conf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UsersFileTest {

    private static final Path FILE = Path.of("/etc/pgstitch/users.txt");
    private static final String SCRAM = "SCRAM-SHA-256$4096:YrtXAftP3UJLejvwLtKf+Q==$"
            + "k1CKTvlfirZuxc1MNsGQPehz87E1tclEesK/eS3R16U=:/pKKnopwGAk1O1OCvDG3VIuqF8ii4hV7wkCktPaB4g8=";
    private static final String MD5 = "md5a2286e2058e8275f4419293789626063";

    private static List<String> problems(String text) {
        try {
            UsersFile.parse(text, FILE);
        } catch (ConfigException e) {
            return e.problems();
        }
        throw new AssertionError("expected the file to be refused");
    }

    @Test
    void pgbouncerFormat() throws Exception {
        UsersFile users = UsersFile.parse("""
                ; PgBouncer comment
                # another comment

                "alice" "%s"
                "bob"   "%s"   trailing text is ignored, as in PgBouncer
                "car""ol"\t"plain ""quoted"" password"
                  "dave" "md5ABC"
                """.formatted(SCRAM, MD5), FILE);
        assertThat(users.users()).containsExactly("alice", "bob", "car\"ol", "dave");
        assertThat(users.secret("alice")).isEqualTo(new UserSecret.Scram(SCRAM));
        assertThat(users.secret("bob")).isEqualTo(new UserSecret.Md5(MD5));
        assertThat(users.secret("car\"ol")).isEqualTo(new UserSecret.Plain("plain \"quoted\" password"));
        assertThat(users.secret("dave")).as("not 32 lower-case hex digits: plaintext, as in PostgreSQL")
                .isEqualTo(new UserSecret.Plain("md5ABC"));
        assertThat(users.secret("eve")).isNull();
        assertThat(users.file()).isEqualTo(FILE);
    }

    @Test
    void windowsLineEndsAndAByteOrderMark() throws Exception {
        UsersFile users = UsersFile.parse("\uFEFF\"a\" \"x\"\r\n\"b\" \"y\"\r\n", FILE);
        assertThat(users.users()).containsExactly("a", "b");
        assertThat(users.secret("b").text()).isEqualTo("y");
    }

    @Test
    void anEmptyFileHasNoUsers() throws Exception {
        assertThat(UsersFile.parse("", FILE).users()).isEmpty();
    }

    @Test
    void secretsAreNeverPrinted() throws Exception {
        UsersFile users = UsersFile.parse("\"a\" \"" + SCRAM + "\"\n\"b\" \"hunter2\"\n\"c\" \"" + MD5 + "\"", FILE);
        assertThat(users.toString()).isEqualTo("UsersFile[" + FILE + ", 3 users]");
        for (String user : users.users()) {
            assertThat(users.secret(user).toString()).doesNotContain("hunter2").doesNotContain("k1CK")
                    .doesNotContain("a2286e");
        }
    }

    @Test
    void everyProblemHasFileAndLineAndNoSecret() {
        List<String> problems = problems("""
                "ok" "fine"
                alice secret1
                "bob" "secret2
                "carol"
                "dave""secret3"
                "erin" ""
                "" "secret4"
                "frank" "SCRAM-SHA-256$4096:c2FsdA==$secret5"
                "grace" "SCRAM-SHA-256$0:c2FsdA==$k1CKTvlfirZuxc1MNsGQPehz87E1tclEesK/eS3R16U=:%s"
                "heidi" "SCRAM-SHA-256$4096:c2FsdA==$c2VjcmV0Ng==:c2VjcmV0Ng=="
                "ok" "again"
                "%s" "secret7"
                """.formatted("/pKKnopwGAk1O1OCvDG3VIuqF8ii4hV7wkCktPaB4g8=", "x".repeat(64)));
        assertThat(problems).containsExactly(
                FILE + ":2: expected \"user\" \"secret\" with both in double quotes",
                FILE + ":3: user \"bob\": the secret must be in double quotes, closed on the same line",
                FILE + ":4: expected whitespace and the quoted secret after the user name",
                FILE + ":5: expected whitespace and the quoted secret after the user name",
                FILE + ":6: user \"erin\": the secret is empty",
                FILE + ":7: empty user name",
                FILE + ":8: user \"frank\": malformed SCRAM secret (expected "
                        + "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>)",
                FILE + ":9: user \"grace\": SCRAM iteration count must be between 1 and 1000000, got 0",
                FILE + ":10: user \"heidi\": malformed SCRAM secret: the salt must be base64 and StoredKey and "
                        + "ServerKey base64 of 32 bytes each",
                FILE + ":11: user \"ok\" is listed twice (first at line 1)",
                FILE + ":12: user \"" + "x".repeat(64) + "\": user name is 64 bytes long, the limit is 63");
        assertThat(String.join("\n", problems)).doesNotContain("secret1", "secret2", "secret3", "secret4",
                "secret5", "k1CK", "c2VjcmV0Ng", "secret7");
    }

    @Test
    void loadReadsTheFileAndNamesItWhenMissing(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("users.txt");
        Files.writeString(file, "\"alice\" \"" + SCRAM + "\"\n");
        assertThat(UsersFile.load(file).secret("alice")).isInstanceOf(UserSecret.Scram.class);
        assertThatThrownBy(() -> UsersFile.load(dir.resolve("nope.txt"))).isInstanceOfSatisfying(
                ConfigException.class, e -> assertThat(e.problems()).singleElement().asString()
                        .startsWith(dir.resolve("nope.txt") + ": cannot be read"));
        Files.writeString(file, "\"alice\" \"x\"\n\"alice\" \"y\"\n");
        assertThatThrownBy(() -> UsersFile.load(file)).hasMessage(file + ":2: user \"alice\" is listed twice "
                + "(first at line 1)");
    }
}
