package io.pgstitch.it.support;

/** What a client binary printed and how it exited. */
public record ProcessResult(int exitCode, String stdout, String stderr) {
}
