package dev.distillery.client;

import dev.distillery.v1.EvaluateResponse;
import dev.distillery.v1.ModelEvaluation;
import java.util.List;

/**
 * The seed's comparison table for an {@link EvaluateResponse}: per model its size, top-1 and top-5
 * accuracy, and the median and 99th-percentile time per image at batch 1.
 */
public final class EvaluationTable {

    private EvaluationTable() {}

    /** The table, one row per model, preceded by a line naming the dataset, split and image count. */
    public static String render(EvaluateResponse report) {
        return render(report, List.of());
    }

    /**
     * The table with a first column saying what each model is ("teacher", "student alone"...), one role
     * per result in order; no such column when {@code roles} is empty.
     */
    public static String render(EvaluateResponse report, List<String> roles) {
        if (!roles.isEmpty() && roles.size() != report.getResultsCount()) {
            throw new IllegalArgumentException(roles.size() + " roles for " + report.getResultsCount() + " models");
        }
        TextTable table = new TextTable();
        if (!roles.isEmpty()) {
            table.text("role");
        }
        table.text("model").number("parameters").number("top-1").number("top-5").number("p50 ms").number("p99 ms");
        for (int i = 0; i < report.getResultsCount(); i++) {
            ModelEvaluation row = report.getResults(i);
            String model = row.getModel().getName() + "/" + row.getModel().getVersion();
            String[] figures = {model, String.format("%,d", row.getParameters()), percent(row.getTop1Accuracy()),
                    percent(row.getTop5Accuracy()), String.format("%.3f", row.getLatencyP50Ms()),
                    String.format("%.3f", row.getLatencyP99Ms())};
            table.row(roles.isEmpty() ? figures : prepend(roles.get(i), figures));
        }
        return String.format("%s, %s split, %,d images; time per image at batch 1 on ONNX Runtime%n",
                report.getDataset(), report.getSplit(), report.getImages()) + table.render();
    }

    private static String percent(double fraction) {
        return String.format("%.2f %%", 100 * fraction);
    }

    private static String[] prepend(String first, String[] rest) {
        String[] cells = new String[rest.length + 1];
        cells[0] = first;
        System.arraycopy(rest, 0, cells, 1, rest.length);
        return cells;
    }
}
