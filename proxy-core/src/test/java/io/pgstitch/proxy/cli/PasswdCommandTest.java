package io.pgstitch.proxy.cli;

import io.pgstitch.conf.UserSecret;
import io.pgstitch.conf.UsersFile;
import io.pgstitch.protocol.auth.Md5Password;
import io.pgstitch.protocol.auth.ScramVerifier;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class PasswdCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    /** Runs {@code pgstitch args} through Main, with {@code stdin} piped in (no terminal). */
    private int run(byte[] stdin, String... args) {
        InputStream in = new ByteArrayInputStream(stdin);
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> type) throws Exception {
                return type == PasswdCommand.class ? type.cast(new PasswdCommand(null, in))
                        : CommandLine.defaultFactory().create(type);
            }
        };
        CommandLine cli = Main.commandLine(factory);
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        return cli.execute(args);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private UserSecret parsedSecret(String user) throws Exception {
        assertThat(out.toString()).endsWith(System.lineSeparator()).hasLineCount(1);
        UsersFile file = UsersFile.parse(out.toString(), Path.of("(stdout)"));
        assertThat(file.users()).containsExactly(user);
        return file.secret(user);
    }

    @Test
    void printsAScramLineTheUsersFileReadsBack() throws Exception {
        assertThat(run(utf8("pässwörd \"1\"\nnot read\n"), "passwd", "alice")).isZero();
        assertThat(out.toString()).startsWith("\"alice\" \"SCRAM-SHA-256$4096:");
        UserSecret secret = parsedSecret("alice");
        assertThat(secret).isInstanceOf(UserSecret.Scram.class);
        ScramVerifier verifier = ScramVerifier.parse(secret.text());
        assertThat(ScramVerifier.fromPassword("pässwörd \"1\"", verifier.salt(), verifier.iterations()))
                .isEqualTo(verifier);
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void quotesInTheUserNameAreDoubledAndAWindowsLineEndIsNotPartOfThePassword() throws Exception {
        assertThat(run(utf8("pencil\r\n"), "passwd", "o\"brien")).isZero();
        assertThat(out.toString()).startsWith("\"o\"\"brien\" \"SCRAM-SHA-256$");
        ScramVerifier verifier = ScramVerifier.parse(parsedSecret("o\"brien").text());
        assertThat(ScramVerifier.fromPassword("pencil", verifier.salt(), 4096)).isEqualTo(verifier);
    }

    @Test
    void md5PrintsThePgAuthidForm() throws Exception {
        assertThat(run(utf8("pencil"), "passwd", "--md5", "c")).isZero();
        assertThat(out.toString()).isEqualTo("\"c\" \"md5a2286e2058e8275f4419293789626063\"" + System.lineSeparator());
        assertThat(parsedSecret("c")).isEqualTo(new UserSecret.Md5(Md5Password.hash("c", "pencil")));
    }

    @Test
    void anEmptyPasswordIsRefused() {
        assertThat(run(utf8("\n"), "passwd", "alice")).isEqualTo(1);
        assertThat(err.toString()).contains("empty password refused");
        assertThat(out.toString()).isEmpty();
        assertThat(run(new byte[0], "passwd", "alice")).isEqualTo(1);
    }

    @Test
    void badInputIsRefused() {
        assertThat(run(new byte[] {'a', (byte) 0xff, '\n'}, "passwd", "alice")).isEqualTo(1);
        assertThat(err.toString()).contains("not valid UTF-8");
        assertThat(run(utf8("x".repeat(2000)), "passwd", "alice")).isEqualTo(1);
        assertThat(err.toString()).contains("longer than 1024 bytes");
        assertThat(run(utf8("pencil\n"), "passwd", "a\nb")).isEqualTo(1);
        assertThat(err.toString()).contains("user name must be non-empty and on one line");
        assertThat(run(utf8("pencil\n"), "passwd")).isEqualTo(2);
        assertThat(out.toString()).isEmpty();
    }
}
