package dev.distillery.client;

import java.util.ArrayList;
import java.util.List;

/**
 * A plain-text table for a terminal: a header row, then one row per item, each column as wide as its
 * widest cell and two spaces between columns. Numeric columns are right-aligned so their digits line up.
 */
public final class TextTable {

    private final List<String> headers = new ArrayList<>();
    private final List<Boolean> rightAligned = new ArrayList<>();
    private final List<String[]> rows = new ArrayList<>();

    /** Adds a column of text, left-aligned. */
    public TextTable text(String header) {
        return column(header, false);
    }

    /** Adds a column of figures, right-aligned. */
    public TextTable number(String header) {
        return column(header, true);
    }

    private TextTable column(String header, boolean right) {
        if (!rows.isEmpty()) {
            throw new IllegalStateException("columns are declared before the first row");
        }
        headers.add(header);
        rightAligned.add(right);
        return this;
    }

    /** Adds a row: one cell per column, in the order the columns were declared. */
    public TextTable row(String... cells) {
        if (cells.length != headers.size()) {
            throw new IllegalArgumentException(cells.length + " cells for " + headers.size() + " columns");
        }
        rows.add(cells.clone());
        return this;
    }

    /** The header and every row, each line ending in a line separator. */
    public String render() {
        int[] widths = new int[headers.size()];
        for (int c = 0; c < widths.length; c++) {
            widths[c] = headers.get(c).length();
            for (String[] row : rows) {
                widths[c] = Math.max(widths[c], row[c].length());
            }
        }
        StringBuilder text = new StringBuilder();
        line(text, headers.toArray(String[]::new), widths);
        for (String[] row : rows) {
            line(text, row, widths);
        }
        return text.toString();
    }

    private void line(StringBuilder text, String[] cells, int[] widths) {
        StringBuilder line = new StringBuilder();
        for (int c = 0; c < cells.length; c++) {
            if (c > 0) {
                line.append("  ");
            }
            String padding = " ".repeat(widths[c] - cells[c].length());
            line.append(rightAligned.get(c) ? padding + cells[c] : cells[c] + padding);
        }
        // A left-aligned last column would leave trailing spaces.
        text.append(line.toString().stripTrailing()).append(System.lineSeparator());
    }
}
