package dev.distillery.distill.methods;

/** The teacher output a distillation method learns from. */
public enum TeacherSignal {
    /** The teacher's class logits, one row per image. */
    LOGITS
}
