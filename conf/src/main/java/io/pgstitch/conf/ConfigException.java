package io.pgstitch.conf;

import java.util.List;

/** A configuration that cannot be used, with every problem found, each as {@code path: what is wrong}. */
public final class ConfigException extends Exception {

    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public ConfigException(List<String> problems) {
        super(String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
