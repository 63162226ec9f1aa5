package dev.distillery.distill;

/**
 * What one setting of a sweep made, kept while it is the best.
 *
 * @param best the statistics of its exported epoch
 * @param epochsRun epochs it ran
 * @param earlyStopped true when early stopping ended it before its last epoch
 * @param onnx the student at its best epoch, as ONNX
 */
public record TrialOutcome(EpochStats best, int epochsRun, boolean earlyStopped, byte[] onnx) {}
