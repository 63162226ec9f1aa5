#!/usr/bin/env python3
"""Merges one bench/reference run into <prefix>.json and <prefix>.md.

Inputs (in the work folder): machine.txt, distillery.json (written by the demo client with --json),
torch-teacher.json, torch-student.json and torch-student-kd.json (bench/pytorch_peer.py).
Throughput is the median of the per-epoch rates after the first epoch (which pays for warm-up) on
both sides, with the range beside it: small models swing between two speeds on this machine.
"""
import json
import os
import statistics
import sys


def steady(images_per_second):
    """Median, min and max of the per-epoch rates after the first epoch."""
    later = images_per_second[1:] or images_per_second
    return statistics.median(later), min(later), max(later)


def main(work, prefix):
    with open(os.path.join(work, "machine.txt")) as f:
        machine = dict(line.rstrip("\n").split(": ", 1) for line in f if ": " in line)
    with open(os.path.join(work, "distillery.json")) as f:
        distillery = json.load(f)
    torch_runs = {}
    for name in ("teacher", "student", "student-kd"):
        with open(os.path.join(work, "torch-%s.json" % name)) as f:
            peer = json.load(f)
        torch_runs[name] = peer["runs"][-1]
        torch_runs[name]["version"] = peer["machine"]["torch"]

    jobs = {job["model"]: job for job in distillery["jobs"]}
    throughput = []
    for label, job_name, peer in (("teacher, labels only", "fmnist-teacher", "teacher"),
                                  ("student, labels only", "fmnist-student-alone", "student"),
                                  ("student, KD on cached teacher logits", "fmnist-student-distilled", "student-kd")):
        djl = steady(jobs[job_name]["images_per_second_by_epoch"])
        torch = steady([e["images_per_s"] for e in torch_runs[peer]["epochs"]])
        throughput.append({"training": label,
                           "djl_images_per_s": {"median": round(djl[0], 1), "min": round(djl[1], 1),
                                                "max": round(djl[2], 1)},
                           "pytorch_images_per_s": {"median": round(torch[0], 1), "min": round(torch[1], 1),
                                                    "max": round(torch[2], 1)},
                           "djl_over_pytorch": round(djl[0] / torch[0], 3)})

    merged = {"machine": machine, "plan": distillery["plan"], "evaluation": distillery["evaluation"],
              "training_throughput": throughput, "jobs": distillery["jobs"],
              "pytorch": {"version": torch_runs["teacher"]["version"], "runs": torch_runs}}
    with open(prefix + ".json", "w") as f:
        json.dump(merged, f, indent=2)

    rows = distillery["evaluation"]
    alone = next(r for r in rows if r["role"] == "student alone")
    lines = ["# Reference pair on Fashion-MNIST", "",
             "%s, %s cores, %s; commit %s; %s." % (machine.get("cpu"), machine.get("cores"), machine.get("java"),
                                                  machine.get("commit"), machine.get("date")),
             "Plan: %s." % ", ".join("%s %s" % kv for kv in distillery["plan"].items()), "",
             "| model | parameters | test accuracy | vs student alone | ms/image p50 | ms/image p99 |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        delta = "" if r["role"] == "teacher" else "%+.2f" % (100 * (r["top1_accuracy"] - alone["top1_accuracy"]))
        lines.append("| %s (%s/%d) | %s | %.2f %% | %s | %.3f | %.3f |" % (
            r["role"], r["model"], r["version"], format(r["parameters"], ","), 100 * r["top1_accuracy"], delta,
            r["latency_p50_ms"], r["latency_p99_ms"]))
    lines += ["", "Latency: one image per call through the Predict path (ONNX Runtime, CPU, 1 intra-op thread), "
              "%d test images." % rows[0]["test_images"], "",
              "Training throughput, same model, loop, batch 128 and thread count; median of the epochs after the "
              "first, [min-max]:", "",
              "| training | DJL 0.33 / PyTorch 2.5.1 images/s | PyTorch %s images/s | DJL / PyTorch |" % (
                  merged["pytorch"]["version"]),
              "|---|---:|---:|---:|"]
    for t in throughput:
        d, p = t["djl_images_per_s"], t["pytorch_images_per_s"]
        lines.append("| %s | %.0f [%.0f-%.0f] | %.0f [%.0f-%.0f] | %.2f |" % (
            t["training"], d["median"], d["min"], d["max"], p["median"], p["min"], p["max"], t["djl_over_pytorch"]))
    lines.append("")
    with open(prefix + ".md", "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
