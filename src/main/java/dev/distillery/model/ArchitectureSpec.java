package dev.distillery.model;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A network as a recipe names it: a catalogue entry and its settings (mirrors the proto message
 * {@code distillery.v1.Architecture}; a setting at its zero value is unset).
 *
 * @param name catalogue name: "mlp", "cnn", "resnet" or "mobilenetv2"
 * @param hidden widths of the hidden dense layers (an mlp's body, a cnn's head)
 * @param stages cnn only: output channels of the 3x3 convolutions in each stage; each stage ends
 *     in a 2x2 max pool
 * @param batchNorm cnn only: BatchNorm after every convolution
 * @param dropout dropout probability in the head, 0 for none
 * @param depth resnet only: the number of weighted layers, 6n + 2
 * @param widthMultiplier resnet and mobilenetv2: scales every channel count; 0 means 1
 */
public record ArchitectureSpec(
        String name, List<Integer> hidden, List<List<Integer>> stages, boolean batchNorm, float dropout,
        int depth, float widthMultiplier) {

    public ArchitectureSpec {
        hidden = List.copyOf(hidden);
        stages = stages.stream().map(List::copyOf).toList();
    }

    /** An mlp or cnn: no depth, no width multiplier. */
    public ArchitectureSpec(
            String name, List<Integer> hidden, List<List<Integer>> stages, boolean batchNorm, float dropout) {
        this(name, hidden, stages, batchNorm, dropout, 0, 0);
    }

    /** The settings given (not at their zero value), by their proto field names. */
    public Set<String> settings() {
        Set<String> given = new LinkedHashSet<>();
        if (!hidden.isEmpty()) {
            given.add("hidden");
        }
        if (!stages.isEmpty()) {
            given.add("stages");
        }
        if (batchNorm) {
            given.add("batch_norm");
        }
        if (dropout != 0) {
            given.add("dropout");
        }
        if (depth != 0) {
            given.add("depth");
        }
        if (widthMultiplier != 0) {
            given.add("width_multiplier");
        }
        return given;
    }
}
