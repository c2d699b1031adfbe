package io.pgstitch.it.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs {@code curl} with a hard time limit and splits what it printed ({@code -i}) into status, headers, body. */
public final class Curl {

    private static final long TIMEOUT_SECONDS = 120;

    /** What came back. */
    public record Response(int status, String headers, String body) {

        public String header(String name) {
            for (String line : headers.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                    return line.substring(colon + 1).trim();
                }
            }
            return null;
        }
    }

    private Curl() {
    }

    public static void assumeAvailable() {
        ClientProcess.assumeOnPath("curl");
    }

    /** {@code curl -s -S -i -H 'Expect:' ARGS URL}, {@code input} on stdin (use {@code --data-binary @-}). */
    public static Response run(String input, String url, String... args) {
        List<String> command = new ArrayList<>(List.of("curl", "-s", "-S", "-i", "-H", "Expect:"));
        command.addAll(List.of(args));
        command.add(url);
        try {
            Process process = new ProcessBuilder(command).start();
            CompletableFuture<byte[]> stdout = CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()));
            CompletableFuture<byte[]> stderr = CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()));
            try (var stdin = process.getOutputStream()) {
                stdin.write(input.getBytes(StandardCharsets.UTF_8));
            }
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("curl did not finish within " + TIMEOUT_SECONDS + " s: " + command);
            }
            String out = new String(stdout.join(), StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                throw new AssertionError("curl exited with " + process.exitValue() + ": "
                        + new String(stderr.join(), StandardCharsets.UTF_8) + "\n" + out);
            }
            int end = out.indexOf("\r\n\r\n");
            String head = out.substring(0, end);
            int status = Integer.parseInt(head.split(" ")[1]);
            return new Response(status, head, out.substring(end + 4));
        } catch (IOException e) {
            throw new IllegalStateException("cannot run curl: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running curl", e);
        }
    }

    private static byte[] readAll(java.io.InputStream in) {
        try {
            return in.readAllBytes();
        } catch (IOException e) {
            return ("(unreadable: " + e.getMessage() + ")").getBytes(StandardCharsets.UTF_8);
        }
    }
}
