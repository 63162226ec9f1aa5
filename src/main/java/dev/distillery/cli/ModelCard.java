package dev.distillery.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.Preprocessing;
import java.math.BigDecimal;
import java.math.MathContext;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** A model card ({@link ModelInfo}) for a person: a short summary, or the JSON the store keeps as model.json. */
final class ModelCard {

    private static final DateTimeFormatter MINUTES = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm'Z'")
            .withZone(ZoneOffset.UTC);
    /** Labels shown in the summary before "and N more". */
    private static final int LABELS_SHOWN = 12;

    private ModelCard() {}

    /** The card as model.json holds it: protobuf JSON with the proto's snake_case names. */
    static String json(Message card) {
        return print(JsonFormat.printer().preservingProtoFieldNames(), card);
    }

    /** One line per aspect: versions, size, input, labels, lineage, metrics, training, checksum. */
    static String summary(ModelInfo card) {
        StringBuilder text = new StringBuilder();
        text.append(card.getName()).append(" version ").append(card.getVersion());
        if (card.getVersionsCount() > 1) {
            text.append(" (versions ").append(card.getVersionsList().stream().map(String::valueOf)
                    .collect(Collectors.joining(", "))).append(')');
        }
        text.append(System.lineSeparator());
        line(text, "created", created(card.getCreated()));
        line(text, "origin", origin(card));
        line(text, "parameters", String.format("%,d", card.getParameters()));
        line(text, "input", shape(card.getInputShapeList()) + preprocessing(card.getPreprocessing()));
        line(text, "labels", labels(card.getLabelsList()));
        if (card.hasArchitecture()) {
            line(text, "architecture", compactJson(card.getArchitecture()));
        }
        if (card.hasLineage() && !card.getLineage().getDataset().isEmpty()) {
            line(text, "dataset", card.getLineage().getDataset());
        }
        if (card.hasLineage() && !card.getLineage().getJobId().isEmpty()) {
            line(text, "job", card.getLineage().getJobId());
        }
        if (card.hasTraining()) {
            line(text, "training", String.format("best epoch %d of %d run%s%s", card.getTraining().getBestEpoch(),
                    card.getTraining().getEpochsRun(), card.getTraining().getEarlyStopped() ? ", stopped early" : "",
                    card.getTraining().getTrialsCount() > 0
                            ? ", " + card.getTraining().getTrialsCount() + " sweep settings tried" : ""));
        }
        Map<String, Double> metrics = new TreeMap<>(card.getMetricsMap());
        metrics.forEach((name, value) -> line(text, name, figure(value)));
        line(text, "sha256", card.getSha256());
        return text.toString();
    }

    /** "distilled from teacher/2", "trained on labels" or "uploaded". */
    static String origin(ModelInfo card) {
        if (card.hasLineage() && card.getLineage().hasTeacher()) {
            ModelRef teacher = card.getLineage().getTeacher();
            return "distilled from " + teacher.getName() + "/" + teacher.getVersion();
        }
        return card.hasArchitecture() || (card.hasLineage() && card.getLineage().hasRecipe())
                ? "trained on labels" : "uploaded";
    }

    /** "1x28x28", channels by height by width. */
    static String shape(List<Long> shape) {
        return shape.isEmpty() ? "?" : shape.stream().map(String::valueOf).collect(Collectors.joining("x"));
    }

    /** Minutes in UTC, or "-" when the server sent no time. */
    static String created(Timestamp time) {
        return time.getSeconds() == 0 ? "-" : MINUTES.format(Instant.ofEpochSecond(time.getSeconds(), time.getNanos()));
    }

    /** Six significant digits, no trailing zeros: 0.703333, 270, 39.4276. */
    private static String figure(double value) {
        if (!Double.isFinite(value)) {
            return String.valueOf(value);
        }
        return new BigDecimal(value).round(new MathContext(6)).stripTrailingZeros().toPlainString();
    }

    private static String preprocessing(Preprocessing p) {
        StringBuilder text = new StringBuilder();
        if (!p.getColor().isEmpty()) {
            text.append(", ").append(p.getColor());
        }
        if (p.getResize() > 0) {
            text.append(", resize ").append(p.getResize());
        }
        if (p.getCenterCrop()) {
            text.append(", center crop");
        }
        if (p.getMeanCount() > 0) {
            text.append(", mean ").append(p.getMeanList());
        }
        if (p.getStdCount() > 0) {
            text.append(", std ").append(p.getStdList());
        }
        return text.toString();
    }

    private static String labels(List<String> labels) {
        String shown = String.join(", ", labels.subList(0, Math.min(labels.size(), LABELS_SHOWN)));
        return labels.size() + ": " + shown + (labels.size() > LABELS_SHOWN
                ? " and " + (labels.size() - LABELS_SHOWN) + " more" : "");
    }

    private static String compactJson(Message message) {
        return print(JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace(), message);
    }

    private static String print(JsonFormat.Printer printer, Message message) {
        try {
            return printer.print(message);
        } catch (InvalidProtocolBufferException e) {
            // Only an Any of an unknown type fails to print; a model card has none.
            throw new IllegalStateException(e);
        }
    }

    private static void line(StringBuilder text, String name, String value) {
        text.append(String.format("  %-20s %s%n", name, value));
    }
}
