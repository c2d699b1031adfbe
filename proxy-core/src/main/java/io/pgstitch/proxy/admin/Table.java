package io.pgstitch.proxy.admin;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What a SHOW command answers, and what the HTTP API turns into JSON objects with the same names: columns (a name
 * and whether it holds a number) and rows. The console and the API read the same tables, so they never disagree.
 */
public final class Table {

    /** A column: numbers are int8 on the wire and JSON numbers; everything else is text. */
    public record Column(String name, boolean numeric) {
    }

    private final List<Column> columns;
    private final List<Object[]> rows = new ArrayList<>();

    private Table(List<Column> columns) {
        this.columns = List.copyOf(columns);
    }

    /**
     * A table with these columns; a name ending in {@code #} is numeric (the {@code #} is dropped):
     * {@code Table.of("database", "cl_active#")}.
     */
    public static Table of(String... columns) {
        return new Table(Arrays.stream(columns).map(name -> name.endsWith("#")
                ? new Column(name.substring(0, name.length() - 1), true) : new Column(name, false)).toList());
    }

    /** Adds a row: one value per column (a Number for numeric ones; null is SQL NULL). */
    public Table row(Object... values) {
        if (values.length != columns.size()) {
            throw new IllegalArgumentException(values.length + " values for " + columns.size() + " columns");
        }
        rows.add(values.clone());
        return this;
    }

    public List<Column> columns() {
        return columns;
    }

    public List<Object[]> rows() {
        return rows;
    }

    public List<String> names() {
        return columns.stream().map(Column::name).toList();
    }
}
