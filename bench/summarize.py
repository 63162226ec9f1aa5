#!/usr/bin/env python3
"""Merges one benchmark run (the files a bench driver left in its work folder) into <prefix>.json and
<prefix>.md. One subcommand per driver:

  summarize.py reference   WORK PREFIX   bench/reference: the demo's run beside the PyTorch peer
  summarize.py quality     WORK PREFIX   bench/quality: student alone vs distilled over seeds
  summarize.py own-teacher WORK PREFIX   bench/own-teacher: a PyTorch teacher, uploaded, distilled from
  summarize.py speed       WORK PREFIX   bench/speed: distillation stage vs the seed's loop; images/s
  summarize.py serving     WORK PREFIX   bench/serving: latency and calls/s against the bare grpc-java floor
  summarize.py training-interference WORK PREFIX   bench/training-interference: Predict latency idle and while
                                         a teacher trains, in-process against process launcher
  summarize.py concurrent-jobs WORK PREFIX   bench/concurrent-jobs: two jobs at once against one by one

Inputs: machine.txt (bench/lib.sh), job and evaluation records of bench/distillery_client.py (protobuf's
JSON mapping: int64 fields arrive as strings, zero values are left out), results of bench/pytorch_peer.py.
Throughput is the median of the per-epoch rates after the first epoch (which pays for warm-up), with the
range beside it: small models swing between two speeds on this machine.
"""
import glob
import json
import os
import statistics
import sys


# --- shared ---------------------------------------------------------------------------------------------

def load(work, name):
    with open(os.path.join(work, name)) as f:
        return json.load(f)


def read_machine(work):
    with open(os.path.join(work, "machine.txt")) as f:
        return dict(line.rstrip("\n").split(": ", 1) for line in f if ": " in line)


def machine_line(machine):
    threads = ", training threads %s" % machine["threads"] if "threads" in machine else ""
    load = "; load average at start %s" % machine["load at start"] if "load at start" in machine else ""
    return "%s, %s cores%s, %s; commit %s; %s%s." % (machine.get("cpu"), machine.get("cores"), threads,
                                                   machine.get("java"), machine.get("commit"), machine.get("date"), load)


def steady(images_per_second):
    """Median, min and max of the per-epoch rates after the first epoch."""
    later = images_per_second[1:] or images_per_second
    return statistics.median(later), min(later), max(later)


def rates(values):
    median, low, high = steady(values)
    return {"median": round(median, 1), "min": round(low, 1), "max": round(high, 1), "epochs": len(values)}


def write(prefix, merged, lines):
    with open(prefix + ".json", "w") as f:
        json.dump(merged, f, indent=2)
    with open(prefix + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print("wrote %s.json and %s.md" % (prefix, prefix))


def spread(values):
    """Mean, sample standard deviation (0 for one value), min and max."""
    return {"mean": statistics.mean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values), "n": len(values)}


def epochs(n):
    return "%d epoch%s" % (n, "" if n == 1 else "s")


def points(fraction):
    return 100 * fraction


def fmt_spread(s, signed=False):
    sign = "+" if signed else ""
    return ("%" + sign + ".2f ± %.2f [%" + sign + ".2f, %" + sign + ".2f]") % (
        points(s["mean"]), points(s["std"]), points(s["min"]), points(s["max"]))


# --- job and evaluation records of bench/distillery_client.py --------------------------------------------

def epoch_events(job):
    return [e for e in job["events"] if e["kind"] == "epoch"]


def job_rates(job):
    return [e.get("images_per_second", 0.0) for e in epoch_events(job)]


def best_epoch(job):
    """The exported epoch as the server reports it; None when it does not."""
    epoch = job.get("finished", {}).get("best_epoch") or \
        job.get("model_info", {}).get("training", {}).get("best_epoch")
    return int(epoch) if epoch else None


def model_key(ref):
    return ref["name"], int(ref.get("version", 0))


def evaluation_rows(evaluation):
    """(name, version) -> the row of Evaluate, with the model's card beside it."""
    cards = {model_key(c): c for c in evaluation.get("cards", [])}
    rows = {}
    for r in evaluation["results"]:
        key = model_key(r["model"])
        rows[key] = {"model": key[0], "version": key[1], "parameters": int(r.get("parameters", 0)),
                     "top1_accuracy": r.get("top1_accuracy", 0.0), "top5_accuracy": r.get("top5_accuracy", 0.0),
                     "latency_p50_ms": r.get("latency_p50_ms", 0.0), "latency_p99_ms": r.get("latency_p99_ms", 0.0),
                     "card": cards.get(key, {})}
    return rows


def run_facts(job):
    """What a summary needs of one training job."""
    recipe = job["recipe"]
    data = recipe.get("data", {})
    epochs = epoch_events(job)
    return {"model": job["model"]["name"], "version": int(job["model"].get("version", 0)),
            "arm": "distilled" if recipe.get("teacher") and recipe.get("distillation", {}).get("alpha", 0.7) > 0
            else "alone",
            "seed": int(recipe.get("seed", 0)), "labelled_fraction": data.get("labelled_fraction", 1.0),
            "epochs": int(recipe.get("epochs", 0)), "epochs_run": len(epochs), "best_epoch": best_epoch(job),
            "best_validation_accuracy": job.get("finished", {}).get("validation_accuracy"),
            "seconds": job.get("finished", {}).get("seconds")}


# --- reference ----------------------------------------------------------------------------------------

def reference(work, prefix):
    """bench/reference: distillery.json (written by the demo client with --json), torch-teacher.json,
    torch-student.json and torch-student-kd.json (bench/pytorch_peer.py)."""
    machine = read_machine(work)
    distillery = load(work, "distillery.json")
    torch_runs = {}
    for name in ("teacher", "student", "student-kd"):
        peer = load(work, "torch-%s.json" % name)
        torch_runs[name] = peer["runs"][-1]
        torch_runs[name]["version"] = peer["machine"]["torch"]

    jobs = {job["model"]: job for job in distillery["jobs"]}
    throughput = []
    for label, job_name, peer in (("teacher, labels only", "fmnist-teacher", "teacher"),
                                  ("student, labels only", "fmnist-student-alone", "student"),
                                  ("student, KD on cached teacher logits", "fmnist-student-distilled", "student-kd")):
        djl = rates(jobs[job_name]["images_per_second_by_epoch"])
        torch = rates([e["images_per_s"] for e in torch_runs[peer]["epochs"]])
        throughput.append({"training": label, "djl_images_per_s": djl, "pytorch_images_per_s": torch,
                           "djl_over_pytorch": round(djl["median"] / torch["median"], 3)})

    merged = {"machine": machine, "plan": distillery["plan"], "evaluation": distillery["evaluation"],
              "training_throughput": throughput, "jobs": distillery["jobs"],
              "pytorch": {"version": torch_runs["teacher"]["version"], "runs": torch_runs}}
    rows = distillery["evaluation"]
    alone = next(r for r in rows if r["role"] == "student alone")
    lines = ["# Reference pair on Fashion-MNIST", "", machine_line(machine),
             "Plan: %s." % ", ".join("%s %s" % kv for kv in distillery["plan"].items()), "",
             "| model | parameters | test accuracy | vs student alone | ms/image p50 | ms/image p99 |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        delta = "" if r["role"] == "teacher" else "%+.2f" % (100 * (r["top1_accuracy"] - alone["top1_accuracy"]))
        lines.append("| %s (%s/%d) | %s | %.2f %% | %s | %.3f | %.3f |" % (
            r["role"], r["model"], r["version"], format(r["parameters"], ","), 100 * r["top1_accuracy"], delta,
            r["latency_p50_ms"], r["latency_p99_ms"]))
    lines += ["", "Latency: one image per call through the Predict path (ONNX Runtime, CPU, 1 intra-op thread), "
              "%d test images." % rows[0]["test_images"], ""]
    lines += throughput_table(throughput, merged["pytorch"]["version"])
    write(prefix, merged, lines)


def throughput_table(throughput, torch_version):
    lines = ["Training throughput, same model, loop, batch 128 and thread count; median of the epochs after the "
             "first, [min-max]:", "",
             "| training | DJL 0.33 / PyTorch 2.5.1 images/s | PyTorch %s images/s | DJL / PyTorch |" % torch_version,
             "|---|---:|---:|---:|"]
    for t in throughput:
        d, p = t["djl_images_per_s"], t["pytorch_images_per_s"]
        lines.append("| %s | %.0f [%.0f-%.0f] | %.0f [%.0f-%.0f] | %.2f |" % (
            t["training"], d["median"], d["min"], d["max"], p["median"], p["min"], p["max"], t["djl_over_pytorch"]))
    return lines


# --- quality ------------------------------------------------------------------------------------------

GAIN_TARGET = 1.0  # points, distilled over alone with a tenth of the labels (the target)


def quality(work, prefix):
    """bench/quality: teacher.json, runs/*.json (one job each, alone or distilled, any labelled fraction
    and seed: read from each job's recipe) and evaluation.json (every model on the test split)."""
    machine = read_machine(work)
    teacher_job = load(work, "teacher.json")
    rows = evaluation_rows(load(work, "evaluation.json"))
    runs = []
    for path in sorted(glob.glob(os.path.join(work, "runs", "*.json"))):
        with open(path) as f:
            facts = run_facts(json.load(f))
        facts["test_accuracy"] = rows[(facts["model"], facts["version"])]["top1_accuracy"]
        runs.append(facts)
    teacher_row = rows[model_key(teacher_job["model"])]

    fractions = []
    for fraction in sorted({r["labelled_fraction"] for r in runs}):
        arms = {arm: {r["seed"]: r for r in runs if r["labelled_fraction"] == fraction and r["arm"] == arm}
                for arm in ("alone", "distilled")}
        seeds = sorted(set(arms["alone"]) & set(arms["distilled"]))
        per_seed = [{"seed": s, "alone": arms["alone"][s]["test_accuracy"],
                     "distilled": arms["distilled"][s]["test_accuracy"],
                     "gain": arms["distilled"][s]["test_accuracy"] - arms["alone"][s]["test_accuracy"],
                     "alone_best_epoch": arms["alone"][s]["best_epoch"], "alone_epochs": arms["alone"][s]["epochs"],
                     "distilled_best_epoch": arms["distilled"][s]["best_epoch"],
                     "distilled_epochs": arms["distilled"][s]["epochs"]} for s in seeds]
        entry = {"labelled_fraction": fraction, "seeds": per_seed}
        if per_seed:
            entry.update({arm: spread([p[arm] for p in per_seed]) for arm in ("alone", "distilled", "gain")})
        fractions.append(entry)

    merged = {"machine": machine, "teacher": {**teacher_row, "epochs": int(teacher_job["recipe"].get("epochs", 0)),
                                              "best_epoch": best_epoch(teacher_job)},
              "gain_target_points": GAIN_TARGET, "labelled_fractions": fractions, "runs": runs}
    recipe = teacher_job["recipe"]
    lines = ["# Quality: the reference pair, student alone vs distilled", "", machine_line(machine),
             "Teacher %s/%d (%s parameters), trained once for this run on every label, %s, train_limit %s: "
             "%.2f %% test accuracy; every student below learns from it." % (
                 teacher_row["model"], teacher_row["version"], format(teacher_row["parameters"], ","),
                 epochs(int(recipe.get("epochs", 0))), recipe.get("data", {}).get("train_limit", 0),
                 points(teacher_row["top1_accuracy"])),
             "Accuracy on the whole test split; %s. Spread: mean ± sample standard deviation [min, max] over "
             "seeds, in points." % ("each student is its best epoch by validation accuracy"
                                    if all(r["best_epoch"] for r in runs)
                                    else "the server reported no best epoch for some students"), ""]
    for entry in fractions:
        if not entry["seeds"]:
            continue
        first = entry["seeds"][0]
        lines += ["## %s of the labels" % ("All" if entry["labelled_fraction"] >= 1 else
                                          "%g %%" % points(entry["labelled_fraction"])), "",
                  "Student alone: %s; distilled (KD): %s over every training image." % (
                      epochs(first["alone_epochs"]), epochs(first["distilled_epochs"])), "",
                  "| seed | alone | distilled | gain (points) | best epoch alone | best epoch distilled |",
                  "|---:|---:|---:|---:|---:|---:|"]
        for p in entry["seeds"]:
            lines.append("| %d | %.2f %% | %.2f %% | %+.2f | %s | %s |" % (
                p["seed"], points(p["alone"]), points(p["distilled"]), points(p["gain"]),
                p["alone_best_epoch"] or "n/a", p["distilled_best_epoch"] or "n/a"))
        lines += ["", "- alone: %s %%" % fmt_spread(entry["alone"]),
                  "- distilled: %s %%" % fmt_spread(entry["distilled"]),
                  "- gain: %s points; positive in %d of %d seeds" % (
                      fmt_spread(entry["gain"], signed=True), sum(p["gain"] > 0 for p in entry["seeds"]),
                      len(entry["seeds"]))]
        if entry["labelled_fraction"] < 1:
            met = points(entry["gain"]["mean"]) >= GAIN_TARGET
            lines.append("- target: mean gain at least %+.1f points: %s" % (GAIN_TARGET, "met" if met else "not met"))
        lines.append("")
    write(prefix, merged, lines)


# --- own teacher --------------------------------------------------------------------------------------

def own_teacher(work, prefix):
    """bench/own-teacher: plan.json, torch-teacher.json (pytorch_peer.py --export), upload.txt (what the CLI
    printed), alone.json and distilled.json (jobs), evaluation.json (the three models on the PNG test split)."""
    machine = read_machine(work)
    plan = load(work, "plan.json")
    torch_teacher = load(work, "torch-teacher.json")
    with open(os.path.join(work, "upload.txt")) as f:
        upload = f.read().strip()
    jobs = {arm: load(work, arm + ".json") for arm in ("alone", "distilled")}
    evaluation = load(work, "evaluation.json")
    rows = evaluation_rows(evaluation)
    teacher_ref = jobs["distilled"]["recipe"]["teacher"]
    teacher_key = next(k for k in rows if k[0] == teacher_ref["name"])
    table = [{"role": "teacher from PyTorch", **rows[teacher_key]}]
    for arm in ("alone", "distilled"):
        facts = run_facts(jobs[arm])
        table.append({"role": "student " + arm, **rows[(facts["model"], facts["version"])],
                      "best_epoch": facts["best_epoch"], "epochs": facts["epochs"]})
    for row in table:
        row.pop("card")
    gain = table[2]["top1_accuracy"] - table[1]["top1_accuracy"]
    torch_run = torch_teacher["runs"][-1]
    export = torch_teacher["export"]

    merged = {"machine": machine, "plan": plan, "dataset": evaluation.get("dataset"), "split": evaluation.get("split"),
              "test_images": evaluation.get("images"), "table": table, "gain_points": round(points(gain), 2),
              "pytorch_teacher": {"torch": torch_teacher["machine"]["torch"], "epochs": len(torch_run["epochs"]),
                                  "parameters": torch_run["parameters"], "test_accuracy": torch_run["test_accuracy"],
                                  "export": export},
              "upload": upload, "recipes": {arm: jobs[arm]["recipe"] for arm in jobs}}
    distilled_recipe = jobs["distilled"]["recipe"]
    method = distilled_recipe.get("distillation", {})
    lines = ["# Your own teacher: PyTorch-trained, uploaded, distilled on an image folder", "", machine_line(machine),
             "Teacher: the reference CNN trained by PyTorch %s for %s on the Fashion-MNIST training set "
             "(%s parameters, %.2f %% test accuracy in PyTorch, %.2f %% in ONNX Runtime %s, largest logit "
             "difference %.1e), exported with torch.onnx and uploaded with `./distillery models upload`." % (
                 torch_teacher["machine"]["torch"], epochs(len(torch_run["epochs"])), format(torch_run["parameters"], ","),
                 points(torch_run["test_accuracy"]), points(export["onnxruntime_test_accuracy"]),
                 export["onnxruntime"], export["max_abs_logit_difference"]),
             "Students: dataset `%s`, PNG files, %g %% of the training images in class folders and the rest in "
             "an unlabelled folder; the student alone trains on the labelled images for %s, the distilled "
             "student on all of them for %s (%s, T %s, alpha %s)." % (
                 distilled_recipe.get("data", {}).get("dataset"), points(plan["labelled_fraction"]),
                 epochs(plan["alone_epochs"]), epochs(plan["student_epochs"]), method.get("method", "kd"),
                 method.get("temperature"), method.get("alpha")),
             "Evaluated by the server on the %s split of `%s` (%s images); latency is one image per call at "
             "batch 1 on ONNX Runtime." % (evaluation.get("split"), evaluation.get("dataset"),
                                          evaluation.get("images")), "",
             "| model | parameters | test accuracy | vs student alone | ms/image p50 | ms/image p99 | best epoch |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for row in table:
        delta = "%+.2f" % points(row["top1_accuracy"] - table[1]["top1_accuracy"]) if row["role"] != table[0][
            "role"] else ""
        best = "%s of %s" % (row["best_epoch"] or "n/a", row["epochs"]) if "epochs" in row else ""
        lines.append("| %s (%s/%d) | %s | %.2f %% | %s | %.3f | %.3f | %s |" % (
            row["role"], row["model"], row["version"], format(row["parameters"], ","), points(row["top1_accuracy"]),
            delta, row["latency_p50_ms"], row["latency_p99_ms"], best))
    lines += ["", "Distilled minus alone: %+.2f points (as measured: it can be negative)." % points(gain),
              "The server counts the teacher's parameters in its ONNX file, where the export has folded each "
              "BatchNorm into its convolution; PyTorch counts %s." % format(torch_run["parameters"], ","), ""]
    write(prefix, merged, lines)


# --- speed ----------------------------------------------------------------------------------------------

SPEEDUP_TARGET = 5.0  # the seed's loop over Distillery's distillation stage
THROUGHPUT_TARGET = 1.0  # DJL over PyTorch, teacher and ResNet student


def distillation_stage(job):
    """Seconds from the start of the teacher's outputs to the end of the last epoch, from the server's event
    times: the stage before the teacher's (loading data) ends when the teacher's outputs begin; the
    last epoch event follows that epoch's validation. Also the job's own wall time."""
    events = job["events"]
    teacher = next((i for i, e in enumerate(events) if e["kind"] == "stage" and "teacher" in e.get("name", "")), None)
    if teacher is None or teacher == 0:
        raise SystemExit("%s: no teacher stage among the job's events: was it distilled?" % job.get("job_id"))
    start = events[teacher - 1]
    epochs = epoch_events(job)
    return {"start_event": start.get("name", start["kind"]), "teacher_stage": events[teacher].get("message", ""),
            "teacher_outputs_seconds": round(events[teacher]["time"] - start["time"], 3),
            "student_epochs_seconds": round(epochs[-1]["time"] - events[teacher]["time"], 3),
            "seconds": round(epochs[-1]["time"] - start["time"], 3), "epochs": len(epochs),
            "job_seconds": job.get("finished", {}).get("seconds")}


def speed(work, prefix):
    """bench/speed: djl-teacher.json, djl-distilled.json, djl-resnet.json (jobs); torch-teacher.json,
    torch-seed-loop.json (kd-per-batch) and torch-resnet.json (bench/pytorch_peer.py)."""
    machine = read_machine(work)
    djl = {name: load(work, "djl-%s.json" % name) for name in ("teacher", "distilled", "resnet")}
    torch = {name: load(work, "torch-%s.json" % name) for name in ("teacher", "seed-loop", "resnet")}
    torch_version = torch["teacher"]["machine"]["torch"]

    ours = distillation_stage(djl["distilled"])
    seed_loop = torch["seed-loop"]["runs"][-1]
    seed_seconds = seed_loop["train_seconds"]
    distillation = {"distillery": ours,
                    "pytorch_seed_loop": {"seconds": seed_seconds, "epochs": len(seed_loop["epochs"]),
                                          "images_per_epoch": seed_loop["epochs"][0]["images"],
                                          "student_test_accuracy": seed_loop["test_accuracy"]},
                    "speedup": round(seed_seconds / ours["seconds"], 2),
                    "speedup_over_whole_job": round(seed_seconds / ours["job_seconds"], 2)
                    if ours["job_seconds"] else None,
                    "target": SPEEDUP_TARGET}
    throughput = []
    for label, name in (("teacher (reference CNN)", "teacher"), ("ResNet student (%s)", "resnet")):
        d = rates(job_rates(djl[name]))
        run = torch[name]["runs"][-1]
        p = rates([e["images_per_s"] for e in run["epochs"]])
        throughput.append({"training": label.replace("%s", run["model"]), "djl_images_per_s": d,
                           "pytorch_images_per_s": p, "djl_over_pytorch": round(d["median"] / p["median"], 3),
                           "pytorch_parameters": run["parameters"], "target": THROUGHPUT_TARGET})

    merged = {"machine": machine, "pytorch": torch_version, "distillation": distillation,
              "training_throughput": throughput,
              "recipes": {name: job["recipe"] for name, job in djl.items()},
              "pytorch_configs": {name: run["config"] for name, run in torch.items()}}
    recipe = djl["distilled"]["recipe"]
    lines = ["# Speed", "", machine_line(machine), "",
             "## Distillation stage: teacher outputs once vs the teacher on every batch", "",
             "The same pair (reference teacher CNN, reference student), student trained for %s of %d images, batch %s, "
             "KD T %s alpha %s." % (epochs(ours["epochs"]), seed_loop["epochs"][0]["images"], recipe.get("batch_size", 128),
                                    recipe.get("distillation", {}).get("temperature"),
                                    recipe.get("distillation", {}).get("alpha")),
             "Distillery: from the end of the stage before the teacher's outputs to the last epoch event (teacher "
             "outputs, student epochs with their validation), from the server's event times. PyTorch %s: the "
             "seed tutorial's loop, the teacher in eval mode without gradients on every batch of every epoch; "
             "the sum of its epochs." % torch_version, "",
             "| | seconds | of which teacher outputs | student epochs |", "|---|---:|---:|---:|",
             "| Distillery | %.1f | %.1f | %.1f |" % (ours["seconds"], ours["teacher_outputs_seconds"],
                                                    ours["student_epochs_seconds"]),
             "| PyTorch, teacher on every batch | %.1f | (inside the epochs) | %.1f |" % (seed_seconds, seed_seconds),
             "", "Speed-up: **%.2fx** (target at least %.0fx: %s). Over Distillery's whole job (data loading and "
             "export included, %.1f s): %.2fx." % (
                 distillation["speedup"], SPEEDUP_TARGET, "met" if distillation["speedup"] >= SPEEDUP_TARGET
                 else "not met", ours["job_seconds"] or 0, distillation["speedup_over_whole_job"] or 0),
             ""]
    lines += ["## Training throughput: DJL vs PyTorch", ""]
    lines += throughput_table(throughput, torch_version)
    lines += ["", "Target: DJL at least %.1fx PyTorch for each row: %s." % (THROUGHPUT_TARGET, "; ".join(
        "%s %s" % (t["training"], "met" if t["djl_over_pytorch"] >= THROUGHPUT_TARGET else "not met")
        for t in throughput)), ""]
    write(prefix, merged, lines)


# --- serving --------------------------------------------------------------------------------------------

# Issue 6's targets, against the floor in the same run: p50 and p99 at concurrency 1, calls/s at 64.
P50_TARGET, P99_TARGET, THROUGHPUT_FLOOR_TARGET = 1.3, 2.0, 0.8


def serving(work, prefix):
    """bench/serving: machine.txt, load.json (ServingLoad) and memory.txt (VmRSS and VmHWM of the server)."""
    machine = read_machine(work)
    load_run = load(work, "load.json")
    with open(os.path.join(work, "memory.txt")) as f:
        memory = {line.split(":")[0]: int(line.split()[1]) / 1024 for line in f if ":" in line}
    targets = {t["name"]: {level["concurrency"]: level for level in t["levels"]} for t in load_run["targets"]}
    floor = targets["floor"]
    levels = sorted(floor)
    checks = {}
    for name in ("predict", "infer", "predict-unbatched", "infer-unbatched"):
        one, most = targets[name][levels[0]], targets[name][levels[-1]]
        checks[name] = {
            "p50_over_floor_at_%d" % levels[0]: round(one["p50_ms"] / floor[levels[0]]["p50_ms"], 2),
            "p99_over_floor_at_%d" % levels[0]: round(one["p99_ms"] / floor[levels[0]]["p99_ms"], 2),
            "calls_per_second_over_floor_at_%d" % levels[-1]: round(
                most["calls_per_second"] / floor[levels[-1]]["calls_per_second"], 2)}
    merged = {"machine": machine, "load": load_run, "server_memory_mib": {k: round(v, 1) for k, v in memory.items()},
              "against_floor": checks}

    def met(ok):
        return "met" if ok else "**not met**"

    raw = load_run["raw"]
    lines = ["# Serving: Distillery against a bare grpc-java server", "",
             machine_line(machine), "",
             "Closed loop, one tensor (%s) per call on one loopback channel. Every target first called for %s s at "
             "concurrency 8 (JIT warm-up); then %s s warm-up and %s s measured per level and target, targets back to "
             "back at each level. Model %s (the reference student). floor: a bare "
             "grpc-java server running the same ONNX Runtime call on its transport thread. Raw in-process ONNX "
             "Runtime call, concurrency 1: p50 %.4f ms, p99 %.4f ms, %.0f calls/s. Server CPU per call: the serving "
             "process's user and system time over the measured interval divided by its calls (10 ms ticks; the "
             "client's own cost is not in it)." % (
                 "x".join(str(d) for d in load_run["input_shape"]), load_run["server_warmup_seconds"],
                 load_run["warmup_seconds"], load_run["seconds"],
                 load_run["model"], raw["p50_ms"], raw["p99_ms"], raw["calls_per_second"]), "",
             "| concurrency | target | calls/s | p50 ms | p90 ms | p99 ms | p99.9 ms | server CPU µs/call | errors |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for level in levels:
        for name, by_level in targets.items():
            f = by_level[level]
            lines.append("| %d | %s | %.0f | %.3f | %.3f | %.3f | %.3f | %.0f | %d |" % (
                level, name, f["calls_per_second"], f["p50_ms"], f["p90_ms"], f["p99_ms"], f["p999_ms"],
                f["server_cpu_us_per_call"], f["errors"]))
    lines += ["", "Against the floor (targets: p50 at most %.1fx and p99 at most %.1fx at concurrency %d; calls/s at "
              "least %.1fx at %d):" % (P50_TARGET, P99_TARGET, levels[0], THROUGHPUT_FLOOR_TARGET, levels[-1]), "",
              "| target | p50 / floor at %d | p99 / floor at %d | calls/s / floor at %d |" % (
                  levels[0], levels[0], levels[-1]), "|---|---:|---:|---:|"]
    for name, c in checks.items():
        p50, p99, tput = c.values()
        lines.append("| %s | %.2f (%s) | %.2f (%s) | %.2f (%s) |" % (
            name, p50, met(p50 <= P50_TARGET), p99, met(p99 <= P99_TARGET), tput, met(tput >= THROUGHPUT_FLOOR_TARGET)))
    lines += ["", "Server resident memory after the load, the teacher and both students loaded: %.0f MiB (peak %.0f "
              "MiB); target under 1,024 MiB: %s." % (memory["VmRSS"], memory["VmHWM"], met(memory["VmHWM"] < 1024)), ""]
    write(prefix, merged, lines)


# --- training-interference ----------------------------------------------------------------------------

INTERFERENCE_TARGET = 1.5  # training p99 over idle p99, process launcher


def training_window(job, window):
    """Whether the job was in its training stage from the measurement's start to its end, from its events."""
    start, end = window
    training_at = next((e["time"] for e in job["events"] if e["kind"] == "stage" and e.get("name") == "training"), None)
    after = [e for e in job["events"] if training_at is not None and e["time"] > training_at and e["kind"] != "epoch"]
    left_at = after[0]["time"] if after else None
    epochs = [e for e in epoch_events(job) if start <= e["time"] <= end]
    return {"training_stage_at": training_at, "measured_from": start, "measured_to": end,
            "next_event": (after[0]["kind"] + (": " + after[0]["name"] if after[0].get("name") else "")) if after else None,
            "next_event_at": left_at, "epochs_during_measurement": len(epochs),
            "covered": training_at is not None and training_at <= start and (left_at is None or left_at >= end)}


def training_interference(work, prefix):
    """bench/training-interference: per launcher, <launcher>-idle.json and -training.json (ServingLoad),
    -teacher.json (the teacher's job record), -window.txt (the measurement's start and end, epoch seconds) and
    -threads.txt (the thread settings of the server and the worker)."""
    machine = read_machine(work)
    launchers = machine["launchers"].split(",")
    merged = {"machine": machine, "launchers": {}}
    lines = ["# Predict latency while a teacher trains: in-process against process launcher", "", machine_line(machine), ""]
    rows, uncovered = [], []
    for launcher in launchers:
        idle, busy = load(work, launcher + "-idle.json"), load(work, launcher + "-training.json")
        job = load(work, launcher + "-teacher.json")
        with open(os.path.join(work, launcher + "-window.txt")) as f:
            window = training_window(job, [float(line) for line in f.read().split()])
        with open(os.path.join(work, launcher + "-threads.txt")) as f:
            threads = dict(line.rstrip("\n").split(": ", 1) for line in f if ": " in line)
        levels = []
        for quiet, loaded in zip(idle["targets"][0]["levels"], busy["targets"][0]["levels"]):
            levels.append({"concurrency": quiet["concurrency"], "idle": quiet, "training": loaded,
                           "p99_training_over_idle": round(loaded["p99_ms"] / quiet["p99_ms"], 2),
                           "p50_training_over_idle": round(loaded["p50_ms"] / quiet["p50_ms"], 2)})
        merged["launchers"][launcher] = {"threads": threads, "teacher": {"job_id": job.get("job_id"),
                                         "recipe_file": job["recipe_file"], "window": window}, "levels": levels}
        if not window["covered"]:
            uncovered.append(launcher)
        for level in levels:
            rows.append((launcher, level))
        load_run = idle
    lines += ["Closed loop, Predict on %s, one tensor (%s) per call on one loopback channel; per level %s s warm-up "
              "and %s s measured, after %s s at concurrency 8 to warm the server. The teacher: %s (output renamed), "
              "measured from its `training` stage on and cancelled after." % (
                  load_run["model"], "x".join(str(d) for d in load_run["input_shape"]), load_run["warmup_seconds"],
                  load_run["seconds"], load_run["server_warmup_seconds"],
                  merged["launchers"][launchers[0]]["teacher"]["recipe_file"]), "",
              "| launcher | concurrency | idle p50 / p99 ms | training p50 / p99 ms | p99 training / idle | "
              "calls/s idle / training | errors |", "|---|---:|---:|---:|---:|---:|---:|"]
    for launcher, level in rows:
        q, t = level["idle"], level["training"]
        lines.append("| %s | %d | %.3f / %.3f | %.3f / %.3f | %.2fx | %.0f / %.0f | %d |" % (
            launcher, level["concurrency"], q["p50_ms"], q["p99_ms"], t["p50_ms"], t["p99_ms"],
            level["p99_training_over_idle"], q["calls_per_second"], t["calls_per_second"], q["errors"] + t["errors"]))
    control = busy_loops(work)
    if control:
        merged["busy_loops"] = control
        for level in control["levels"]:
            q, t = level["idle"], level["loaded"]
            lines.append("| control: %d busy loops, `%s` | %d | %.3f / %.3f | %.3f / %.3f | %.2fx | %.0f / %.0f | %d |" % (
                control["loops"], control["priority"], level["concurrency"], q["p50_ms"], q["p99_ms"], t["p50_ms"],
                t["p99_ms"], level["p99_loaded_over_idle"], q["calls_per_second"], t["calls_per_second"],
                q["errors"] + t["errors"]))
    lines.append("")
    if "process" in merged["launchers"]:
        worst = max(level["p99_training_over_idle"] for level in merged["launchers"]["process"]["levels"])
        merged["process_target_met"] = worst <= INTERFERENCE_TARGET
        lines += ["Target: p99 while training at most %.1fx the idle p99 with the process launcher: %s (worst %.2fx)." % (
            INTERFERENCE_TARGET, "met" if worst <= INTERFERENCE_TARGET else "**not met**", worst), ""]
    lines += ["Threads (from each process's command line and environment) and the teacher's progress:", ""]
    for launcher in launchers:
        entry = merged["launchers"][launcher]
        w = entry["teacher"]["window"]
        lines.append("- %s: server %s; worker %s. Teacher in its training stage throughout the measurement: %s "
                     "(%d epochs ended during it; next event: %s)." % (
                         launcher, entry["threads"].get("server", "?").strip(), entry["threads"].get("worker", "?").strip(),
                         "yes" if w["covered"] else "**no**", w["epochs_during_measurement"], w["next_event"] or "none"))
    if control:
        lines.append("- control: the same server idle, then beside %d shell busy loops (`while :; do :; done`) started with "
                     "`%s`, the process worker's own priority, and nothing trained: what any work at that priority costs "
                     "Predict on this machine, with no memory traffic and no system calls." % (
                         control["loops"], control["priority"]))
    lines.append("")
    if uncovered:
        print("\n".join(lines))
        sys.exit("the teacher was not in its training stage during the whole measurement with: %s; no result "
                 "written (a longer teacher recipe, or shorter --seconds)" % ", ".join(uncovered))
    write(prefix, merged, lines)


def busy_loops(work):
    """bench/training-interference's control, when it ran: busy-loops-idle.json and -loaded.json (ServingLoad) and
    busy-loops-priority.txt (the command the loops were started with)."""
    if not os.path.exists(os.path.join(work, "busy-loops-loaded.json")):
        return None
    idle, loaded = load(work, "busy-loops-idle.json"), load(work, "busy-loops-loaded.json")
    with open(os.path.join(work, "busy-loops-priority.txt")) as f:
        priority = f.read().strip()
    levels = [{"concurrency": q["concurrency"], "idle": q, "loaded": t,
               "p99_loaded_over_idle": round(t["p99_ms"] / q["p99_ms"], 2)}
              for q, t in zip(idle["targets"][0]["levels"], loaded["targets"][0]["levels"])]
    return {"priority": priority, "loops": int(read_machine(work).get("cores", os.cpu_count())), "levels": levels}


# --- concurrent-jobs ----------------------------------------------------------------------------------

def concurrent_jobs(work, prefix):
    """bench/concurrent-jobs: the job records <arrangement>-a.json and -b.json of the arrangements together and
    sequential, and evaluation.json (Evaluate on the test split of the four students)."""
    machine = read_machine(work)
    rows = evaluation_rows(load(work, "evaluation.json"))
    merged = {"machine": machine, "arrangements": {}}
    for arrangement in ("together", "sequential"):
        jobs = {}
        for job_name in ("a", "b"):
            job = load(work, "%s-%s.json" % (arrangement, job_name))
            facts = run_facts(job)
            row = rows[(facts["model"], facts["version"])]
            started = next(e["time"] for e in job["events"] if e["kind"] == "stage" and e.get("name") == "started")
            facts.update({"queued_at": job["events"][0]["time"], "started_at": started, "ended_at": job["events"][-1]["time"],
                          "run_seconds": round(job["events"][-1]["time"] - started, 1),
                          "test_top1_accuracy": row["top1_accuracy"], "sha256": row["card"].get("sha256")})
            jobs[job_name] = facts
        wall = max(j["ended_at"] for j in jobs.values()) - min(j["queued_at"] for j in jobs.values())
        merged["arrangements"][arrangement] = {"wall_seconds": round(wall, 1), "jobs": jobs}
    together, sequential = merged["arrangements"]["together"], merged["arrangements"]["sequential"]
    merged["together_over_sequential_wall"] = round(together["wall_seconds"] / sequential["wall_seconds"], 2)
    lines = ["# Two training jobs at once against one after the other (process launcher)", "", machine_line(machine), "",
             "Two students (recipes/quick-student.yaml, %s epochs, seeds 1 and 2) submitted at the same moment: "
             "together with max-running 2, one by one with max-running 1 (a new server, same store). Wall time: the "
             "first job's queued event to the last job's end (server time); job s: its own started event to its end, "
             "the worker's start included. Test top-1: Evaluate on the whole test split." % machine.get("student epochs"), "",
             "| arrangement | wall s | job | seed | job s | best val acc | test top-1 |", "|---|---:|---|---:|---:|---:|---:|"]
    labels = {"together": "together (max-running 2)", "sequential": "one by one (max-running 1)"}
    for arrangement, entry in merged["arrangements"].items():
        for job_name, j in entry["jobs"].items():
            lines.append("| %s | %.1f | %s | %d | %.1f | %.2f %% | %.2f %% |" % (
                labels[arrangement], entry["wall_seconds"], j["model"], j["seed"], j["run_seconds"],
                100 * (j["best_validation_accuracy"] or 0), 100 * j["test_top1_accuracy"]))
    same = [together["jobs"][n]["sha256"] == sequential["jobs"][n]["sha256"] for n in ("a", "b")]
    merged["same_models"] = all(same)
    lines += ["", "Wall time together / one by one: %.2fx. The same seed made the same ONNX file in both "
              "arrangements: %s." % (merged["together_over_sequential_wall"], "yes" if all(same) else "**no**"), ""]
    write(prefix, merged, lines)


COMMANDS = {"reference": reference, "quality": quality, "own-teacher": own_teacher, "speed": speed, "serving": serving,
            "training-interference": training_interference, "concurrent-jobs": concurrent_jobs}

if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in COMMANDS:
        sys.exit("usage: summarize.py {%s} WORK PREFIX" % "|".join(COMMANDS))
    COMMANDS[sys.argv[1]](sys.argv[2], sys.argv[3])
