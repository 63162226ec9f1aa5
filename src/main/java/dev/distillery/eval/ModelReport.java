package dev.distillery.eval;

import dev.distillery.v1.ModelRef;

/** One row of the comparison table. Accuracies are fractions in [0, 1]; latencies per image at batch 1. */
public record ModelReport(
        ModelRef model, long parameters, double top1Accuracy, double top5Accuracy, double latencyP50Ms, double latencyP99Ms) {}
