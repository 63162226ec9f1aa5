package dev.distillery.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.distillery.error.DistilleryException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The values of every parameter of a block, BatchNorm running statistics included, copied to the Java
 * heap by name: an exact copy that outlives the native arrays.
 */
public final class ParameterSnapshot {

    private final Map<String, float[]> values;

    /** @param values by parameter name, in the block's order */
    public ParameterSnapshot(Map<String, float[]> values) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    public static ParameterSnapshot of(Block block) {
        Map<String, float[]> values = new LinkedHashMap<>();
        for (Pair<String, Parameter> named : block.getParameters()) {
            values.put(named.getKey(), named.getValue().getArray().toFloatArray());
        }
        return new ParameterSnapshot(values);
    }

    public Map<String, float[]> values() {
        return values;
    }

    /**
     * Writes the values back into {@code block}'s arrays in place: a trainer's parameter store keeps
     * referring to the same arrays, so it sees them.
     *
     * @throws DistilleryException FAILED_PRECONDITION when the snapshot is of another network
     */
    public void restoreInto(Block block) {
        if (block.getParameters().size() != values.size()) {
            throw DistilleryException.precondition("the snapshot holds %d parameters, the network %d",
                    values.size(), block.getParameters().size());
        }
        for (Pair<String, Parameter> named : block.getParameters()) {
            float[] saved = values.get(named.getKey());
            NDArray array = named.getValue().getArray();
            if (saved == null || saved.length != array.size()) {
                throw DistilleryException.precondition("the snapshot has no values of shape %s for parameter %s",
                        array.getShape(), named.getKey());
            }
            array.set(saved);
        }
    }
}
