#!/usr/bin/env python3
"""PyTorch peer of the DJL training benchmark: the reference models and our training loop, in PyTorch.

Trains the catalogue's Fashion-MNIST teacher or student with the loop Distillery runs (AdamW, batch 128,
a seeded shuffle every epoch; plain cross-entropy or KD on teacher logits computed once) and reports
training throughput (images/s, first epoch and later epochs apart) and test accuracy, as text and JSON.
Figures mean something only on an otherwise idle machine: each epoch reports the CPUs other processes took.

    bench/install-torch
    bench/.venv/bin/python bench/pytorch_peer.py --model student --epochs 2 --out student.json
    bench/.venv/bin/python bench/pytorch_peer.py --model student --mode kd --teacher-logits t.npy
"""
import argparse
import gzip
import json
import os
import platform
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

DATA_DIR = "/usr/share/datasets/fashion-mnist"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=["teacher", "student"], default="student")
    p.add_argument("--mode", choices=["plain", "kd"], default="plain")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--limit", type=int, default=0, help="train on the first N training images (0 = all)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--temperature", type=float, default=3.0)
    p.add_argument("--alpha", type=float, default=0.7, help="weight of the teacher term")
    p.add_argument("--teacher-logits", help="kd: .npy of N x 10 float32 logits aligned with the training images;"
                   " without it a teacher is trained in this run first")
    p.add_argument("--teacher-epochs", type=int, default=1, help="kd without --teacher-logits")
    p.add_argument("--data", default=DATA_DIR, help="folder of the Fashion-MNIST IDX .gz files")
    p.add_argument("--out", help="write the results as JSON here")
    return p.parse_args()


# --- data -------------------------------------------------------------------------------------------

def read_idx(path, header):
    """IDX file as uint8; header is 16 bytes for images (magic, count, rows, cols) and 8 for labels."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    return np.frombuffer(raw, dtype=np.uint8, offset=header)


def load_data(folder, limit):
    def images(name):
        return read_idx(os.path.join(folder, name), 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255

    def labels(name):
        return read_idx(os.path.join(folder, name), 8).astype(np.int64)

    x_train, y_train = images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz")
    x_test, y_test = images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz")
    # Mean and std over all 60k training images, so --limit changes what is trained on, not the scaling.
    mean, std = x_train.mean(), x_train.std()
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]

    def norm(x):
        return torch.from_numpy((x - mean) / std)

    return norm(x_train), torch.from_numpy(y_train), norm(x_test), torch.from_numpy(y_test)


# --- models (match the DJL catalogue: convolutions with bias, BatchNorm after each when present) ------

def conv(cin, cout, bn):
    layers = [nn.Conv2d(cin, cout, 3, padding=1)]
    if bn:
        # DJL's momentum 0.9 is the share kept by the running statistics: PyTorch's 0.1.
        layers.append(nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1))
    return layers + [nn.ReLU()]


def teacher():
    return nn.Sequential(
        *conv(1, 32, True), *conv(32, 32, True), nn.MaxPool2d(2),
        *conv(32, 64, True), *conv(64, 64, True), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))


def student():
    return nn.Sequential(
        *conv(1, 8, False), nn.MaxPool2d(2),
        *conv(8, 16, False), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10))


MODELS = {"teacher": teacher, "student": student}


# --- loop ---------------------------------------------------------------------------------------------

def kd_loss(logits, labels, teacher_logits, temperature, alpha):
    """(1 - a) CE + a T^2 KL(softmax(t/T) || softmax(s/T)), KL averaged over the batch (Hinton et al.)."""
    ce = F.cross_entropy(logits, labels)
    kl = F.kl_div(F.log_softmax(logits / temperature, dim=1), F.log_softmax(teacher_logits / temperature, dim=1),
                  reduction="batchmean", log_target=True)
    return (1 - alpha) * ce + alpha * temperature ** 2 * kl


def busy_cpu_seconds():
    """CPU seconds all processes on the machine have used (user+nice+system+irq+softirq, /proc/stat)."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    return sum(ticks[i] for i in (0, 1, 2, 5, 6)) / os.sysconf("SC_CLK_TCK")


def train(name, n_epochs, x, y, args, teacher_logits=None):
    """Trains one model; returns it with its per-epoch figures. Only the epochs themselves are timed."""
    torch.manual_seed(args.seed)  # same initial weights and dropout masks for the same seed
    model = MODELS[name]()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    shuffle = torch.Generator().manual_seed(args.seed)
    n = len(x)
    epochs = []
    for epoch in range(1, n_epochs + 1):
        model.train()
        total, start, cpu, busy = 0.0, time.perf_counter(), time.process_time(), busy_cpu_seconds()
        order = torch.randperm(n, generator=shuffle)
        for i in range(0, n, args.batch):
            idx = order[i:i + args.batch]
            logits = model(x[idx])
            if teacher_logits is None:
                loss = F.cross_entropy(logits, y[idx])
            else:
                loss = kd_loss(logits, y[idx], teacher_logits[idx], args.temperature, args.alpha)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        seconds = time.perf_counter() - start
        # Our CPU seconds per wall second (near --threads when all threads ran) and the CPUs that other
        # processes took meanwhile: on this 2-core machine shared with other sessions' builds, an epoch
        # with other_cpus near 1 ran at a fraction of its speed, and its figure is not comparable.
        own = time.process_time() - cpu
        other = max(0.0, busy_cpu_seconds() - busy - own)
        epochs.append({"epoch": epoch, "seconds": round(seconds, 3), "images": n,
                       "images_per_s": round(n / seconds, 1), "mean_loss": round(total / n, 4),
                       "cpu_per_wall": round(own / seconds, 2), "other_cpus": round(other / seconds, 2)})
        print(f"  {name} epoch {epoch}: {seconds:.2f} s, {n / seconds:.0f} images/s, mean loss {total / n:.4f}, "
              f"cpu/wall {own / seconds:.2f}, other processes {other / seconds:.2f} CPUs", flush=True)
    return model, epochs


@torch.no_grad()
def predict(model, x, batch=1000):
    model.eval()
    return torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)])


def summary(name, model, epochs, x_test, y_test):
    later = epochs[1:]
    steady = sum(e["images"] for e in later) / sum(e["seconds"] for e in later) if later else None
    accuracy = (predict(model, x_test).argmax(1) == y_test).float().mean().item()
    return {"model": name, "parameters": sum(p.numel() for p in model.parameters()), "epochs": epochs,
            "first_epoch_images_per_s": epochs[0]["images_per_s"] if epochs else None,
            "steady_images_per_s": round(steady, 1) if steady else None,
            "train_seconds": round(sum(e["seconds"] for e in epochs), 3),
            "test_accuracy": round(accuracy, 4)}


def machine_info(threads):
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "threads": threads, "interop_threads": torch.get_num_interop_threads(),
            "mkldnn": torch.backends.mkldnn.is_available()}


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    info = machine_info(torch.get_num_threads())
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()), flush=True)

    start = time.perf_counter()
    x, y, x_test, y_test = load_data(args.data, args.limit)
    print(f"data: {len(x)} training, {len(x_test)} test images, loaded in {time.perf_counter() - start:.2f} s",
          flush=True)

    results = {"machine": info, "config": vars(args), "runs": []}
    teacher_logits = None
    if args.mode == "kd":
        if args.teacher_logits:
            teacher_logits = torch.from_numpy(np.load(args.teacher_logits).astype(np.float32))
            if teacher_logits.shape[0] < len(x) or teacher_logits.shape[1:] != (10,):
                raise SystemExit(f"{args.teacher_logits}: shape {tuple(teacher_logits.shape)}, need ({len(x)}, 10)")
            teacher_logits = teacher_logits[:len(x)]
        else:
            print(f"training the teacher for {args.teacher_epochs} epoch(s) to get its logits", flush=True)
            model, epochs = train("teacher", args.teacher_epochs, x, y, args)
            results["runs"].append({**summary("teacher", model, epochs, x_test, y_test), "role": "in-run teacher"})
            # Computed once in eval mode: the data is not augmented, so every epoch would see the same logits.
            start = time.perf_counter()
            teacher_logits = predict(model, x)
            results["teacher_logits_seconds"] = round(time.perf_counter() - start, 3)

    print(f"training the {args.model} ({args.mode}) for {args.epochs} epoch(s)", flush=True)
    model, epochs = train(args.model, args.epochs, x, y, args, teacher_logits)
    results["runs"].append({**summary(args.model, model, epochs, x_test, y_test), "role": args.mode})

    for run in results["runs"]:
        later = run["steady_images_per_s"] or "n/a (one epoch)"
        print(f"{run['model']} ({run['role']}, {run['parameters']} parameters): "
              f"first epoch {run['first_epoch_images_per_s']} images/s, later epochs {later} images/s, "
              f"training {run['train_seconds']} s, test accuracy {run['test_accuracy']:.4f}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
