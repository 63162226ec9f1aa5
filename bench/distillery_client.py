#!/usr/bin/env python3
"""The benchmarks' gRPC client of a running Distillery server, with Debian's python3-grpcio.

Stubs are generated from proto/ at run time (python3-grpc-tools), as client_test.py does. Every command
writes what the server answered as JSON, for bench/summarize.py.

  train RECIPE.yaml [--set KEY=VALUE]... --out JOB.json
      Submits the recipe (YAML whose keys are the Recipe fields of recipe.proto, as `./distillery train`
      reads it; --set overrides one field by its dotted path, e.g. --set data.labelled_fraction=0.1
      --set teacher.name=t), prints its events, and writes the recipe sent, every event with its server
      time, the finished model and its card (ModelInfo, with training.best_epoch). It prints the job's id
      ("  job ID") with the first event. Exits 1 if the job fails or is cancelled.
  evaluate --dataset D [--split test] [--latency-samples N] --out EVAL.json MODEL[:VERSION]...
      The Evaluate table for those models, each with its card.

    /usr/bin/python3 bench/distillery_client.py --target localhost:8089 train bench/recipes/teacher.yaml \\
        --set epochs=3 --out teacher.json
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import grpc
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def generate_stubs():
    out = tempfile.mkdtemp(prefix="distillery-stubs-")
    protos = [os.path.join("distillery", "v1", f)
              for f in sorted(os.listdir(os.path.join(ROOT, "proto", "distillery", "v1")))]
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", os.path.join(ROOT, "proto"),
                    "--python_out", out, "--grpc_python_out", out, *protos],
                   check=True, cwd=os.path.join(ROOT, "proto"))
    sys.path.insert(0, out)


generate_stubs()
from google.protobuf import json_format  # noqa: E402
from distillery.v1 import (common_pb2, evaluation_pb2, evaluation_pb2_grpc, models_pb2,  # noqa: E402
                           models_pb2_grpc, recipe_pb2, training_pb2, training_pb2_grpc)


def as_dict(message):
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def override(recipe, assignment):
    """Sets recipe[a][b]... = value for "a.b...=value"; the value is read as YAML (numbers stay numbers)."""
    path, sep, value = assignment.partition("=")
    if not sep or not path:
        raise SystemExit(f"--set {assignment}: write KEY=VALUE, e.g. data.labelled_fraction=0.1")
    keys = path.split(".")
    node = recipe
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = yaml.safe_load(value)


def read_recipe(path, assignments):
    with open(path) as f:
        document = yaml.safe_load(f) or {}
    for assignment in assignments:
        override(document, assignment)
    # Protobuf's own JSON parser, as the CLI's recipe reader: an unknown key is an error.
    try:
        return json_format.ParseDict(document, recipe_pb2.Recipe())
    except json_format.ParseError as e:
        raise SystemExit(f"{path}{' with ' + ' '.join(assignments) if assignments else ''}: not a Recipe: {e}")


def model_ref(text):
    name, _, version = text.partition(":")
    return common_pb2.ModelRef(name=name, version=int(version or 0))


def seconds(timestamp):
    return timestamp.seconds + timestamp.nanos / 1e9


def train(channel, args):
    recipe = args.parsed_recipe
    print(f"== {recipe.output_model} ({os.path.basename(args.recipe)}"
          f"{', ' + ' '.join(args.set) if args.set else ''})", flush=True)
    stub = training_pb2_grpc.TrainingStub(channel)
    record = {"recipe_file": args.recipe, "overrides": args.set, "recipe": as_dict(recipe), "events": []}
    outcome = None
    for event in stub.Train(training_pb2.TrainRequest(recipe=recipe)):
        kind = event.WhichOneof("event")
        body = as_dict(getattr(event, kind))
        if "job_id" not in record:
            print(f"  job {event.job_id}", flush=True)
        record["job_id"] = event.job_id
        record["events"].append({"time": seconds(event.time), "kind": kind, **body})
        if kind == "stage":
            print(f"  {event.stage.name}: {event.stage.message}", flush=True)
        elif kind == "epoch":
            e = event.epoch
            print(f"  epoch {e.epoch}/{e.epochs}{' ' + e.trial if e.trial else ''}  loss {e.train_loss:.4f}  "
                  f"val acc {100 * e.validation_accuracy:.2f} %  {e.images_per_second:.0f} images/s", flush=True)
        elif kind == "trial":
            print(f"  trial T {event.trial.temperature:g} alpha {event.trial.alpha:g}: best validation "
                  f"{100 * event.trial.best_validation_accuracy:.2f} % in epoch {event.trial.best_epoch}", flush=True)
        elif kind in ("finished", "failed", "cancelled"):
            outcome = kind
            record[kind] = body
    if outcome == "finished":
        ref = event.finished.model
        record["model"] = as_dict(ref)
        card = models_pb2_grpc.ModelsStub(channel).GetModel(models_pb2.GetModelRequest(model=ref))
        record["model_info"] = as_dict(card)
        print(f"  finished in {event.finished.seconds:.0f} s: {ref.name} version {ref.version}, "
              f"best epoch {event.finished.best_epoch or 'not reported'}", flush=True)
    write(args.out, record)
    if outcome != "finished":
        raise SystemExit(f"job {record.get('job_id')} did not finish: {outcome} {record.get(outcome, '')}")


def evaluate(channel, args):
    refs = [model_ref(m) for m in args.models]
    request = evaluation_pb2.EvaluateRequest(models=refs, dataset=args.dataset, split=args.split,
                                             latency_samples=args.latency_samples)
    report = evaluation_pb2_grpc.EvaluationStub(channel).Evaluate(request)
    models = models_pb2_grpc.ModelsStub(channel)
    record = as_dict(report)
    record["cards"] = [as_dict(models.GetModel(models_pb2.GetModelRequest(model=r.model))) for r in report.results]
    print(f"{report.dataset} {report.split}, {report.images} images:")
    for r in report.results:
        print(f"  {r.model.name}/{r.model.version}: {r.parameters:,} parameters, top-1 {100 * r.top1_accuracy:.2f} %,"
              f" p50 {r.latency_p50_ms:.3f} ms")
    write(args.out, record)


def write(path, record):
    with open(path, "w") as f:
        json.dump(record, f, indent=2)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target", default="localhost:" + os.environ.get("DISTILLERY_PORT", "8080"))
    commands = p.add_subparsers(dest="command", required=True)
    t = commands.add_parser("train")
    t.add_argument("recipe")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    t.add_argument("--out", required=True)
    e = commands.add_parser("evaluate")
    e.add_argument("models", nargs="+", metavar="MODEL[:VERSION]")
    e.add_argument("--dataset", required=True)
    e.add_argument("--split", default="test")
    e.add_argument("--latency-samples", type=int, default=0, help="0: the server's default")
    e.add_argument("--out", required=True)
    args = p.parse_args()
    if args.command == "train":
        args.parsed_recipe = read_recipe(args.recipe, args.set)  # a bad file fails before any connection

    with grpc.insecure_channel(args.target, options=[("grpc.max_receive_message_length", 64 << 20)]) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=60)
        except grpc.FutureTimeoutError:
            raise SystemExit(f"no server answers at {args.target} (waited 60 s)")
        try:
            {"train": train, "evaluate": evaluate}[args.command](channel, args)
        except grpc.RpcError as e:
            raise SystemExit(f"the server at {args.target} answered {e.code().name}: {e.details()}")


if __name__ == "__main__":
    main()
