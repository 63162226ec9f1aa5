package dev.distillery.distill;

import com.google.protobuf.FloatValue;
import dev.distillery.distill.methods.DistillationMethods;
import dev.distillery.v1.Distillation;
import dev.distillery.v1.OptimizerSpec;
import dev.distillery.v1.Schedule;

/** Resolved recipe parts for tests that train without going through {@link Recipes}. */
final class Fixtures {

    static final Schedule CONSTANT = Schedule.newBuilder().setName("constant").build();

    private Fixtures() {}

    static Distillation kd(float temperature, float alpha) {
        return DistillationMethods.get("kd").resolve(Distillation.newBuilder().setMethod("kd")
                .setTemperature(FloatValue.of(temperature)).setAlpha(FloatValue.of(alpha)).build(), true);
    }

    static OptimizerSpec adamw(float learningRate) {
        return OptimizerSpec.newBuilder().setName("adamw").setLearningRate(FloatValue.of(learningRate))
                .setWeightDecay(FloatValue.of(0.01f)).build();
    }

    static OptimizerSpec nesterov(float learningRate) {
        return OptimizerSpec.newBuilder().setName("sgd").setLearningRate(FloatValue.of(learningRate))
                .setWeightDecay(FloatValue.of(5e-4f)).setMomentum(FloatValue.of(0.9f)).setNesterov(true).build();
    }
}
