package dev.distillery.model;

import java.util.List;

/**
 * A network as a recipe names it: a catalogue entry and its settings (mirrors the proto message
 * {@code distillery.v1.Architecture}).
 *
 * @param name catalogue name, "mlp" or "cnn"
 * @param hidden widths of the hidden dense layers (an mlp's body, a cnn's head)
 * @param stages cnn only: output channels of the 3x3 convolutions in each stage; each stage ends
 *     in a 2x2 max pool
 * @param batchNorm cnn only: BatchNorm after every convolution
 * @param dropout dropout probability after every hidden dense layer, 0 for none
 */
public record ArchitectureSpec(
        String name, List<Integer> hidden, List<List<Integer>> stages, boolean batchNorm, float dropout) {

    public ArchitectureSpec {
        hidden = List.copyOf(hidden);
        stages = stages.stream().map(List::copyOf).toList();
    }
}
