package dev.distillery.distill;

import dev.distillery.data.ImageSet;
import dev.distillery.data.Normalization;

/**
 * What a student trains on.
 *
 * @param train training images; label -1 marks an image taught by the teacher alone
 * @param teacherLogits the teacher's logits for {@code train}, row-major (images x classes), in
 *     the same order; null to train on labels alone (then α must be 0); ignored when α = 0
 * @param validation images scored after every epoch; may be empty
 * @param normalization applied to every input image
 */
public record TrainingData(
        ImageSet train, float[] teacherLogits, ImageSet validation, Normalization normalization) {}
