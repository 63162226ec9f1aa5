#!/usr/bin/env python3
"""PyTorch peer of the DJL training benchmarks: the catalogue's models and our training loop, in PyTorch.

Trains the catalogue's Fashion-MNIST teacher, the reference student or a CIFAR-style ResNet with the loop
Distillery runs (AdamW, batch 128, a seeded shuffle every epoch) and reports training throughput (images/s,
first epoch and later epochs apart) and test accuracy, as text and JSON. Modes:
  plain         cross-entropy on the labels;
  kd            KD on teacher logits computed once before the epochs (what Distillery does);
  kd-per-batch  KD with the teacher's forward pass on every batch of every epoch (the seed tutorial's loop).
--export DIR writes the trained model as ONNX with its labels and normalisation, ready for
`./distillery models upload`, and checks the file with ONNX Runtime.
Figures mean something only on an otherwise idle machine: each epoch reports the CPUs other processes took.

    bench/install-torch
    bench/.venv/bin/python bench/pytorch_peer.py --model student --epochs 2 --out student.json
    bench/.venv/bin/python bench/pytorch_peer.py --model student --mode kd --teacher-logits t.npy
    bench/.venv/bin/python bench/pytorch_peer.py --model teacher --epochs 10 --export teacher/
    bench/.venv/bin/python bench/pytorch_peer.py --model student --mode kd-per-batch --teacher-weights teacher/model.pt
    bench/.venv/bin/python bench/pytorch_peer.py --model resnet --depth 20 --limit 10000 --epochs 3
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
# Class names in label order, as the server's fashion-mnist dataset names them.
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=["teacher", "student", "resnet"], default="student")
    p.add_argument("--depth", type=int, default=20, choices=[8, 14, 20, 32], help="resnet: 6n + 2 layers")
    p.add_argument("--mode", choices=["plain", "kd", "kd-per-batch"], default="plain")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--limit", type=int, default=0, help="train on the first N training images (0 = all)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--temperature", type=float, default=3.0)
    p.add_argument("--alpha", type=float, default=0.7, help="weight of the teacher term")
    p.add_argument("--teacher-logits", help="kd: .npy of N x 10 float32 logits aligned with the training images")
    p.add_argument("--teacher-weights", help="kd, kd-per-batch: the teacher's state dict (model.pt of --export)")
    p.add_argument("--teacher-epochs", type=int, default=1,
                   help="kd, kd-per-batch without a given teacher: train one in this run first, for this many epochs")
    p.add_argument("--export", metavar="DIR", help="write model.onnx, model.pt, labels.txt and preprocessing.json here")
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

    return (norm(x_train), torch.from_numpy(y_train), norm(x_test), torch.from_numpy(y_test),
            {"color": "gray", "mean": [float(mean)], "std": [float(std)]})


# --- models (match the DJL catalogue: the cnn's convolutions have a bias, BatchNorm after each when present;
# the resnet's convolutions have none, each is followed by a BatchNorm) ----------------------------------

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


def conv_bn(cin, cout, kernel, stride):
    """Convolution without bias (the BatchNorm's beta takes its place), then BatchNorm."""
    return [nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1)]


class BasicBlock(nn.Module):
    """ReLU(body(x) + shortcut(x)); the shortcut is a 1x1 convolution and BatchNorm where the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.body = nn.Sequential(*conv_bn(cin, cout, 3, stride), nn.ReLU(), *conv_bn(cout, cout, 3, 1))
        self.shortcut = nn.Sequential(*conv_bn(cin, cout, 1, stride)) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        return F.relu(self.body(x) + self.shortcut(x))


def resnet(depth, channels=1, classes=10):
    """The catalogue's "resnet" (CIFAR ResNet, He et al. 2016): 3x3 stem to 16 channels, three stages of
    (depth - 2) / 6 basic blocks with 16, 32 and 64 channels, stride 2 entering stages 2 and 3, global
    average pooling, dense. resnet20 on 3x32x32 has 272,474 parameters."""
    n = (depth - 2) // 6
    layers, cin = [*conv_bn(channels, 16, 3, 1), nn.ReLU()], 16
    for stage, cout in enumerate((16, 32, 64)):
        for block in range(n):
            layers.append(BasicBlock(cin, cout, 2 if stage > 0 and block == 0 else 1))
            cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes))


def build(name, args):
    return resnet(args.depth) if name == "resnet" else {"teacher": teacher, "student": student}[name]()


def display_name(name, args):
    return "resnet%d" % args.depth if name == "resnet" else name


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


def train(name, n_epochs, x, y, args, teacher_outputs=None):
    """Trains one model; returns it with its per-epoch figures. Only the epochs themselves are timed, and
    with them teacher_outputs(indices), which gives the teacher's logits for those training images."""
    torch.manual_seed(args.seed)  # same initial weights and dropout masks for the same seed
    model = build(name, args)
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
            if teacher_outputs is None:
                loss = F.cross_entropy(logits, y[idx])
            else:
                loss = kd_loss(logits, y[idx], teacher_outputs(idx), args.temperature, args.alpha)
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
        print(f"  {display_name(name, args)} epoch {epoch}: {seconds:.2f} s, {n / seconds:.0f} images/s, mean loss {total / n:.4f}, "
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


def load_teacher_logits(path, n):
    logits = torch.from_numpy(np.load(path).astype(np.float32))
    if logits.shape[0] < n or logits.shape[1:] != (10,):
        raise SystemExit(f"{path}: shape {tuple(logits.shape)}, need ({n}, 10)")
    return logits[:n]


def teacher_model(args, x, y, x_test, y_test, results):
    """The teacher for the kd modes, in eval mode: loaded from --teacher-weights, else trained in this run."""
    if args.teacher_weights:
        model = teacher()
        model.load_state_dict(torch.load(args.teacher_weights))
        accuracy = (predict(model, x_test).argmax(1) == y_test).float().mean().item()
        results["teacher"] = {"weights": args.teacher_weights, "test_accuracy": round(accuracy, 4)}
        print(f"teacher from {args.teacher_weights}: test accuracy {accuracy:.4f}", flush=True)
    else:
        print(f"training the teacher for {args.teacher_epochs} epoch(s) first", flush=True)
        model, epochs = train("teacher", args.teacher_epochs, x, y, args)
        results["runs"].append({**summary("teacher", model, epochs, x_test, y_test), "role": "in-run teacher"})
    model.eval()
    return model


def teacher_outputs(args, x, y, x_test, y_test, results):
    """For the student's loop: a function from training-image indices to the teacher's logits, or None."""
    if args.mode == "plain":
        return None
    if args.mode == "kd" and args.teacher_logits:
        logits = load_teacher_logits(args.teacher_logits, len(x))
        return lambda idx: logits[idx]
    model = teacher_model(args, x, y, x_test, y_test, results)
    if args.mode == "kd":
        # Computed once in eval mode: the data is not augmented, so every epoch would see the same logits.
        start = time.perf_counter()
        logits = predict(model, x)
        results["teacher_logits_seconds"] = round(time.perf_counter() - start, 3)
        return lambda idx: logits[idx]

    # kd-per-batch, the seed's loop: the teacher in eval mode without gradients, on every batch of every
    # epoch, inside the timed epochs.
    @torch.no_grad()
    def forward(idx):
        return model(x[idx])

    return forward


def export(model, folder, preprocessing, x_test, y_test):
    """model.onnx (batch dimension symbolic), model.pt, labels.txt and preprocessing.json in folder; the ONNX
    file is run by ONNX Runtime on the test set and compared with the PyTorch model it came from."""
    import onnxruntime  # only here: the throughput runs do not need it

    os.makedirs(folder, exist_ok=True)
    model.eval()
    torch.save(model.state_dict(), os.path.join(folder, "model.pt"))
    onnx_path = os.path.join(folder, "model.onnx")
    # The TorchScript-based exporter needs the onnx package only (no onnxscript); it folds each BatchNorm
    # into the convolution before it.
    torch.onnx.export(model, x_test[:1], onnx_path, dynamo=False, opset_version=17,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    with open(os.path.join(folder, "labels.txt"), "w") as f:
        f.write("\n".join(LABELS) + "\n")
    with open(os.path.join(folder, "preprocessing.json"), "w") as f:
        json.dump(preprocessing, f, indent=2)

    session = onnxruntime.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    ort = np.concatenate([session.run(None, {"input": x_test[i:i + 1000].numpy()})[0]
                          for i in range(0, len(x_test), 1000)])
    ours = predict(model, x_test).numpy()
    check = {"folder": folder, "onnx_bytes": os.path.getsize(onnx_path),
             "onnxruntime": onnxruntime.__version__,
             "max_abs_logit_difference": float(np.abs(ort - ours).max()),
             "onnxruntime_test_accuracy": round(float((ort.argmax(1) == y_test.numpy()).mean()), 4),
             "preprocessing": preprocessing}
    print(f"exported to {folder}: ONNX Runtime test accuracy {check['onnxruntime_test_accuracy']:.4f}, "
          f"largest logit difference from PyTorch {check['max_abs_logit_difference']:.2e}", flush=True)
    return check


def main():
    args = parse_args()
    if args.teacher_logits and args.mode != "kd":
        raise SystemExit("--teacher-logits goes with --mode kd")
    if args.teacher_weights and args.mode == "plain":
        raise SystemExit("--teacher-weights goes with --mode kd or kd-per-batch")
    torch.set_num_threads(args.threads)
    info = machine_info(torch.get_num_threads())
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()), flush=True)

    start = time.perf_counter()
    x, y, x_test, y_test, preprocessing = load_data(args.data, args.limit)
    print(f"data: {len(x)} training, {len(x_test)} test images, loaded in {time.perf_counter() - start:.2f} s",
          flush=True)

    results = {"machine": info, "config": vars(args), "runs": []}
    outputs = teacher_outputs(args, x, y, x_test, y_test, results)

    name = display_name(args.model, args)
    print(f"training the {name} ({args.mode}) for {args.epochs} epoch(s)", flush=True)
    model, epochs = train(args.model, args.epochs, x, y, args, outputs)
    results["runs"].append({**summary(name, model, epochs, x_test, y_test), "role": args.mode})
    if args.export:
        results["export"] = export(model, args.export, preprocessing, x_test, y_test)

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
