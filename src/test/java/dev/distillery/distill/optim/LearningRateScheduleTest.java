package dev.distillery.distill.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.FloatValue;
import dev.distillery.v1.Schedule;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Values at chosen steps, worked out by hand from the formulas in the Javadoc. */
class LearningRateScheduleTest {

    private static final int STEPS = 4;

    @Test
    void constantIsTheBaseRate() {
        LearningRateSchedule schedule = LearningRateSchedule.of(Schedule.newBuilder().setName("constant").build(), 0.1f, 10);
        assertEquals(0.1f, schedule.rate(1, 0, STEPS));
        assertEquals(0.1f, schedule.rate(10, 3, STEPS));
    }

    @Test
    void warmupRisesLinearlyEveryStepToTheBaseRate() {
        LearningRateSchedule schedule = LearningRateSchedule.of(
                Schedule.newBuilder().setName("constant").setWarmupEpochs(2).build(), 0.8f, 10);
        // Eight warm-up steps: 1/8, 2/8, ... of the base rate, full from the eighth on.
        assertEquals(0.1f, schedule.rate(1, 0, STEPS), 1e-7);
        assertEquals(0.4f, schedule.rate(1, 3, STEPS), 1e-7);
        assertEquals(0.7f, schedule.rate(2, 2, STEPS), 1e-7);
        assertEquals(0.8f, schedule.rate(2, 3, STEPS), 1e-7);
        assertEquals(0.8f, schedule.rate(3, 0, STEPS), 1e-7);
    }

    @Test
    void cosineFallsFromTheBaseRateToZeroAtTheEnd() {
        LearningRateSchedule schedule = LearningRateSchedule.of(Schedule.newBuilder().setName("cosine").build(), 1f, 10);
        assertEquals(1f, schedule.rate(1, 0, STEPS), 1e-7);
        // Half way through (position 5 of 10 epochs): cos(pi/2) = 0, so half the rate.
        assertEquals(0.5f, schedule.rate(6, 0, STEPS), 1e-6);
        // The last step, position 9.75: (1 + cos(0.975 pi)) / 2.
        assertEquals((1 + Math.cos(0.975 * Math.PI)) / 2, schedule.rate(10, 3, STEPS), 1e-6);
    }

    @Test
    void cosineStartsAfterTheWarmup() {
        LearningRateSchedule schedule = LearningRateSchedule.of(
                Schedule.newBuilder().setName("cosine").setWarmupEpochs(2).build(), 1f, 10);
        assertEquals(0.125f, schedule.rate(1, 0, STEPS), 1e-7);
        assertEquals(1f, schedule.rate(3, 0, STEPS), 1e-7);
        // Position 6: a half of the 8 cosine epochs.
        assertEquals(0.5f, schedule.rate(7, 0, STEPS), 1e-6);
    }

    @Test
    void stepMultipliesByGammaAfterEachMilestone() {
        LearningRateSchedule schedule = LearningRateSchedule.of(Schedule.newBuilder().setName("step")
                .addAllMilestones(List.of(3, 6)).setGamma(FloatValue.of(0.1f)).build(), 1f, 10);
        assertEquals(1f, schedule.rate(1, 0, STEPS), 1e-7);
        assertEquals(1f, schedule.rate(3, 3, STEPS), 1e-7);
        assertEquals(0.1f, schedule.rate(4, 0, STEPS), 1e-7);
        assertEquals(0.1f, schedule.rate(6, 3, STEPS), 1e-7);
        assertEquals(0.01f, schedule.rate(7, 0, STEPS), 1e-8);
        assertEquals(0.01f, schedule.rate(10, 3, STEPS), 1e-8);
    }

    @Test
    void namesAreSorted() {
        assertEquals(List.of("constant", "cosine", "step"), List.copyOf(LearningRateSchedule.names()));
    }
}
