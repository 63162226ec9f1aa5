"""Reference values for the distillation losses and optimizers, computed with PyTorch.

Writes src/test/resources/dev/distillery/distill/reference.json, which the Java tests
(DistillationMethodsTest, ResumableOptimizerTest) read. Run from the repository root after
bench/install-torch:

    bench/.venv/bin/python src/test/python/distillation_reference.py

The losses are written out from their papers with torch.nn.functional, independently of the Java
code; everything is computed in float64 from float32 inputs, so the file holds the exact answer for
the inputs it lists.

- kd: Hinton, Vinyals and Dean 2015, arXiv:1503.02531.
      L = (1 - alpha) CE + alpha T^2 KL(softmax(t/T) || softmax(s/T)), KL "batchmean".
- dkd: Zhao et al., "Decoupled Knowledge Distillation", CVPR 2022, as mdistiller
      (megvii-research/mdistiller, mdistiller/distillers/DKD.py) computes it:
      TCKD = KL over the binary (target, non-target) probabilities, NCKD = KL among the non-target
      classes with the target logit pushed down by 1000, both summed and divided by the batch, times T^2;
      L = CE + min(epoch / warmup, 1) (alpha TCKD + beta NCKD).
- CE is F.cross_entropy with label_smoothing over the labelled images (label -1 = unlabelled, left out);
  0 when no image in the batch is labelled. For dkd an unlabelled image's target is the teacher's argmax.
- Optimizers: torch.optim.AdamW and torch.optim.SGD (dampening 0), a few steps on a tiny parameter
  with given gradients and a learning rate set afresh before every step.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

OUT = os.path.join("src", "test", "resources", "dev", "distillery", "distill", "reference.json")
BATCH, CLASSES = 6, 5


def f32(t):
    """Rounds to float32 (what Java holds) and returns float64 for exact reference arithmetic."""
    return t.to(torch.float32).to(torch.float64)


def cross_entropy(s, y, smoothing):
    if (y >= 0).sum() == 0:
        return s.sum() * 0
    return F.cross_entropy(s, y, ignore_index=-1, label_smoothing=smoothing)


def kd(s, t, y, c):
    ce = cross_entropy(s, y, c["label_smoothing"])
    T, alpha = c["temperature"], c["alpha"]
    kl = F.kl_div(F.log_softmax(s / T, dim=1), F.softmax(t / T, dim=1), reduction="batchmean")
    return (1 - alpha) * ce + alpha * T * T * kl


def dkd(s, t, y, c):
    T, alpha, beta = c["temperature"], c["alpha"], c["beta"]
    weight = min(c["epoch"] / c["warmup_epochs"], 1.0) if c["warmup_epochs"] > 0 else 1.0
    target = torch.where(y >= 0, y, t.argmax(dim=1))
    gt = F.one_hot(target, CLASSES).to(torch.float64)
    other = 1 - gt

    def binary(p):  # (probability of the target class, probability of all the others)
        return torch.stack([(p * gt).sum(dim=1), (p * other).sum(dim=1)], dim=1)

    b_student = binary(F.softmax(s / T, dim=1))
    b_teacher = binary(F.softmax(t / T, dim=1))
    tckd = F.kl_div(torch.log(b_student), b_teacher, reduction="sum") * T**2 / s.shape[0]
    nckd = F.kl_div(F.log_softmax(s / T - 1000.0 * gt, dim=1), F.softmax(t / T - 1000.0 * gt, dim=1),
                    reduction="sum") * T**2 / s.shape[0]
    return cross_entropy(s, y, c["label_smoothing"]) + weight * (alpha * tckd + beta * nckd)


def loss_case(generator, method, scale, unlabelled, **settings):
    s = f32(torch.randn(BATCH, CLASSES, generator=generator, dtype=torch.float64) * scale)
    t = f32(torch.randn(BATCH, CLASSES, generator=generator, dtype=torch.float64) * scale)
    y = torch.randint(0, CLASSES, (BATCH,), generator=generator)
    y[:unlabelled] = -1
    case = {"method": method, "temperature": 1.0, "alpha": 0.0, "beta": 0.0, "epoch": 1, "warmup_epochs": 0,
            "label_smoothing": 0.0}
    case.update(settings)
    s.requires_grad_(True)
    loss = (kd if method == "kd" else dkd)(s, t, y, case)
    loss.backward()
    case.update({"batch": BATCH, "classes": CLASSES, "student": s.detach().flatten().tolist(),
                 "teacher": t.flatten().tolist(), "labels": y.tolist(), "loss": loss.item(),
                 "gradient": s.grad.flatten().tolist()})
    return case


def check_smoothing_by_hand(generator):
    """F.cross_entropy's label smoothing with ignore_index is the formula the Java Javadoc states."""
    s = torch.randn(BATCH, CLASSES, generator=generator, dtype=torch.float64)
    y = torch.tensor([-1, 2, 0, -1, 4, 1])
    eps = 0.2
    logq = F.log_softmax(s, dim=1)
    rows = [-(1 - eps) * logq[i, y[i]] - eps * logq[i].mean() for i in range(BATCH) if y[i] >= 0]
    by_hand = torch.stack(rows).mean()
    assert torch.allclose(by_hand, cross_entropy(s, y, eps)), (by_hand, cross_entropy(s, y, eps))


def optimizer_case(generator, name, learning_rates, weight_decay, momentum=0.0, nesterov=False):
    shape = (2, 3)
    initial = f32(torch.randn(shape, generator=generator, dtype=torch.float64))
    gradients = [f32(torch.randn(shape, generator=generator, dtype=torch.float64)) for _ in learning_rates]
    p = torch.nn.Parameter(initial.clone())
    if name == "adamw":
        opt = torch.optim.AdamW([p], lr=learning_rates[0], weight_decay=weight_decay)
    else:
        opt = torch.optim.SGD([p], lr=learning_rates[0], weight_decay=weight_decay, momentum=momentum,
                              nesterov=nesterov)
    after = []
    for lr, g in zip(learning_rates, gradients):
        for group in opt.param_groups:
            group["lr"] = lr
        p.grad = g.clone()
        opt.step()
        after.append(p.detach().flatten().tolist())
    state = {k: (v.flatten().tolist() if torch.is_tensor(v) and v.dim() > 0 else float(v))
             for k, v in opt.state[p].items()}
    return {"name": name, "learning_rates": learning_rates, "weight_decay": weight_decay, "momentum": momentum,
            "nesterov": nesterov, "shape": list(shape), "initial": initial.flatten().tolist(),
            "gradients": [g.flatten().tolist() for g in gradients], "parameters": after, "state": state}


def main():
    torch.use_deterministic_algorithms(True)
    generator = torch.Generator().manual_seed(20221)
    check_smoothing_by_hand(generator)
    losses = [
        loss_case(generator, "kd", 3, 0, temperature=3.0, alpha=0.7),
        loss_case(generator, "kd", 3, 2, temperature=2.0, alpha=0.9, label_smoothing=0.1),
        loss_case(generator, "kd", 3, 0, temperature=4.0, alpha=0.0, label_smoothing=0.1),
        loss_case(generator, "kd", 3, BATCH, temperature=1.0, alpha=1.0),
        loss_case(generator, "kd", 3, BATCH, temperature=3.0, alpha=0.5, label_smoothing=0.2),
        loss_case(generator, "kd", 30, 1, temperature=2.0, alpha=0.7),
        loss_case(generator, "dkd", 3, 0, temperature=4.0, alpha=1.0, beta=8.0, epoch=25, warmup_epochs=20),
        loss_case(generator, "dkd", 3, 0, temperature=4.0, alpha=1.0, beta=8.0, epoch=5, warmup_epochs=20),
        loss_case(generator, "dkd", 3, 2, temperature=2.0, alpha=0.5, beta=4.0, epoch=1, warmup_epochs=0,
                  label_smoothing=0.1),
        loss_case(generator, "dkd", 3, BATCH, temperature=3.0, alpha=1.0, beta=8.0, epoch=3, warmup_epochs=3),
        loss_case(generator, "dkd", 30, 1, temperature=1.0, alpha=2.0, beta=1.0, epoch=1, warmup_epochs=1),
    ]
    rates = [0.1, 0.05, 0.1, 0.02, 0.07]
    optimizers = [
        optimizer_case(generator, "adamw", [r / 10 for r in rates], 0.01),
        optimizer_case(generator, "adamw", [r / 10 for r in rates], 0.0),
        optimizer_case(generator, "sgd", rates, 5e-4, momentum=0.9),
        optimizer_case(generator, "sgd", rates, 5e-4, momentum=0.9, nesterov=True),
        optimizer_case(generator, "sgd", rates, 1e-3),
    ]
    with open(OUT, "w") as f:
        json.dump({"generator": "src/test/python/distillation_reference.py", "torch": torch.__version__,
                   "losses": losses, "optimizers": optimizers}, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}: {len(losses)} losses, {len(optimizers)} optimizers", file=sys.stderr)


if __name__ == "__main__":
    main()
