package dev.distillery.serve;

/** One class of a classification: its output index, label and softmax probability. */
public record ClassScore(int index, String label, float probability) {}
