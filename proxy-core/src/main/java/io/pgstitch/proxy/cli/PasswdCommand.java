package io.pgstitch.proxy.cli;

import io.pgstitch.protocol.auth.Md5Password;
import io.pgstitch.protocol.auth.ScramVerifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.ByteArrayOutputStream;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * {@code pgstitch passwd USER [--md5]}: prints one users-file line, {@code "USER" "SCRAM-SHA-256$4096:..."}, for
 * a password typed at the terminal (without echo, twice) or read as one line from standard input, so that the
 * password never appears in a command line or shell history.
 */
@Command(name = "passwd", mixinStandardHelpOptions = true,
        description = "Print a users-file line for USER with a SCRAM-SHA-256 verifier of a password read from the "
                + "terminal (without echo) or as one line from standard input.")
final class PasswdCommand implements Callable<Integer> {

    /** Longer input is not a password but a wrong file piped in. */
    private static final int MAX_PASSWORD_BYTES = 1024;

    @Parameters(index = "0", paramLabel = "USER", description = "the user name, as clients send it")
    String user;

    @Option(names = "--md5", description = "print md5(password + user) instead, for clients that cannot do SCRAM")
    boolean md5;

    @Spec
    CommandSpec spec;

    private final Console console;
    private final InputStream stdin;

    PasswdCommand() {
        this(System.console(), System.in);
    }

    /** @param console the terminal, null when standard input is not one */
    PasswdCommand(Console console, InputStream stdin) {
        this.console = console;
        this.stdin = stdin;
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        if (user.isEmpty() || user.chars().anyMatch(c -> c == '\n' || c == '\r' || c == 0)) {
            return refuse(err, "the user name must be non-empty and on one line");
        }
        char[] password = console != null ? fromConsole(err) : fromStdin();
        if (password == null) {
            return 1;
        }
        try {
            if (password.length == 0) {
                return refuse(err, "empty password refused");
            }
            String text = new String(password);
            String secret = md5 ? Md5Password.hash(user, text) : ScramVerifier.fromPassword(text).encoded();
            PrintWriter out = spec.commandLine().getOut();
            out.println("\"" + user.replace("\"", "\"\"") + "\" \"" + secret + "\"");
            out.flush();
            return 0;
        } finally {
            Arrays.fill(password, '\0');
        }
    }

    /** Asks twice, as createuser --pwprompt does; null after a refusal. */
    private char[] fromConsole(PrintWriter err) {
        char[] first = console.readPassword("Password for %s: ", user);
        char[] second = first == null ? null : console.readPassword("Again: ");
        if (first == null || second == null) {
            refuse(err, "no password entered");
            return null;
        }
        boolean same = Arrays.equals(first, second);
        Arrays.fill(second, '\0');
        if (!same) {
            Arrays.fill(first, '\0');
            refuse(err, "the passwords do not match");
            return null;
        }
        return first;
    }

    /** One line of UTF-8, without its line end; reads byte by byte so that nothing after it is consumed. */
    private char[] fromStdin() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = stdin.read()) >= 0 && b != '\n') {
            if (line.size() == MAX_PASSWORD_BYTES) {
                refuse(spec.commandLine().getErr(), "the password is longer than " + MAX_PASSWORD_BYTES + " bytes");
                return null;
            }
            line.write(b);
        }
        byte[] bytes = line.toByteArray();
        int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        try {
            // newDecoder() reports bad input instead of replacing it: a U+FFFD would make a verifier of the wrong
            // password.
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes, 0, length));
            char[] password = new char[chars.remaining()];
            chars.get(password);
            Arrays.fill(chars.array(), '\0');
            return password;
        } catch (CharacterCodingException e) {
            refuse(spec.commandLine().getErr(), "the password is not valid UTF-8");
            return null;
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    private static int refuse(PrintWriter err, String why) {
        err.println("pgstitch passwd: " + why);
        err.flush();
        return 1;
    }
}
