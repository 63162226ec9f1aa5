package dev.distillery.distill;

/**
 * What one epoch of training achieved.
 *
 * @param epoch 1-based number of the epoch just finished
 * @param epochs epochs in the run
 * @param meanLoss training loss averaged over the epoch's images (each batch weighted by its size)
 * @param validationAccuracy top-1 accuracy on the validation images in eval mode; NaN when there
 *     are none
 * @param learningRate the rate of the epoch's last optimizer step
 * @param imagesPerSecond training images per second of this epoch's training phase
 * @param etaSeconds estimated seconds until the run ends: the mean epoch time so far, validation
 *     included, times the epochs left
 */
public record EpochStats(
        int epoch, int epochs, double meanLoss, double validationAccuracy, double learningRate,
        double imagesPerSecond, double etaSeconds) {}
