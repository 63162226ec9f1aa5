"""Python client test: Debian's python3-grpcio against a running Distillery server.

Stubs are generated from proto/ at run time with grpc_tools (python3-grpc-tools), as a user of
another language would. Usage: DISTILLERY_TARGET=host:port DISTILLERY_HTTP_TARGET=host:port python3 client_test.py
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.request

import grpc

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
TARGET = os.environ.get("DISTILLERY_TARGET", "localhost:8080")
# Health and metrics are on the HTTP port, apart from gRPC.
HTTP_TARGET = os.environ.get("DISTILLERY_HTTP_TARGET", "localhost:8081")


def generate_stubs():
    out = tempfile.mkdtemp(prefix="distillery-stubs-")
    protos = [os.path.join("distillery", "v1", f)
              for f in sorted(os.listdir(os.path.join(ROOT, "proto", "distillery", "v1")))]
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", os.path.join(ROOT, "proto"),
                    "--python_out", out, "--grpc_python_out", out, *protos],
                   check=True, cwd=os.path.join(ROOT, "proto"))
    sys.path.insert(0, out)


generate_stubs()
from google.protobuf import wrappers_pb2  # noqa: E402
from distillery.v1 import (common_pb2, evaluation_pb2, evaluation_pb2_grpc,  # noqa: E402
                           models_pb2, models_pb2_grpc, prediction_pb2, prediction_pb2_grpc,
                           recipe_pb2, training_pb2, training_pb2_grpc)


def tiny_recipe(name, **distillation):
    return recipe_pb2.Recipe(
        output_model=name,
        student=recipe_pb2.Architecture(name="mlp", hidden=[32]),
        data=recipe_pb2.DataSpec(dataset="fashion-mnist", train_limit=1000),
        distillation=recipe_pb2.Distillation(**distillation),
        epochs=1, batch_size=64, seed=7)


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.channel = grpc.insecure_channel(TARGET)
        grpc.channel_ready_future(cls.channel).result(timeout=60)
        cls.training = training_pb2_grpc.TrainingStub(cls.channel)
        cls.prediction = prediction_pb2_grpc.PredictionStub(cls.channel)
        cls.models = models_pb2_grpc.ModelsStub(cls.channel)
        cls.evaluation = evaluation_pb2_grpc.EvaluationStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()

    def test_1_health(self):
        with urllib.request.urlopen("http://%s/q/health/ready" % HTTP_TARGET, timeout=30) as response:
            self.assertEqual(json.load(response)["status"], "UP")
        # grpc.health.v1.Health/Check with an empty request; the reply's field 1 is the status, 1 = SERVING.
        check = self.channel.unary_unary("/grpc.health.v1.Health/Check",
                                         request_serializer=lambda b: b, response_deserializer=lambda b: b)
        self.assertEqual(check(b"", timeout=30), b"\x08\x01")

    def test_1_reflection_lists_the_services(self):
        # ServerReflectionRequest{list_services: ""} is field 7, an empty string: bytes 0x3a 0x00.
        reflect = self.channel.stream_stream("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                                             request_serializer=lambda b: b, response_deserializer=lambda b: b)
        reply = b"".join(reflect(iter([b"\x3a\x00"]), timeout=30))
        for service in (b"distillery.v1.Training", b"distillery.v1.Prediction", b"distillery.v1.Evaluation",
                        b"distillery.v1.Models", b"grpc.health.v1.Health"):
            self.assertIn(service, reply)

    def test_2_train_and_predict(self):
        events = list(self.training.Train(training_pb2.TrainRequest(recipe=tiny_recipe("py-mlp")), timeout=600))
        kinds = [e.WhichOneof("event") for e in events]
        self.assertEqual(kinds[0], "queued")
        self.assertIn("epoch", kinds)
        self.assertEqual(kinds[-1], "finished", events[-1])
        model = events[-1].finished.model
        self.assertEqual(model.name, "py-mlp")
        self.assertGreater(model.version, 0)

        job = self.training.GetJob(training_pb2.GetJobRequest(job_id=events[0].job_id))
        self.assertEqual(job.state, training_pb2.JOB_STATE_SUCCEEDED)

        info = self.models.GetModel(models_pb2.GetModelRequest(model=model))
        self.assertEqual(list(info.input_shape), [1, 28, 28])
        self.assertEqual(len(info.labels), 10)

        tensor = prediction_pb2.Tensor(shape=[1, 28, 28], values=[0.0] * 784)
        reply = self.prediction.Predict(prediction_pb2.PredictRequest(
            model=common_pb2.ModelRef(name="py-mlp"), inputs=[prediction_pb2.Input(tensor=tensor)] * 2, top_k=3))
        self.assertEqual(reply.model.version, model.version)
        self.assertEqual(len(reply.classifications), 2)
        top = reply.classifications[0].top
        self.assertEqual(len(top), 3)
        self.assertIn(top[0].label, info.labels)
        self.assertGreaterEqual(top[0].probability, top[1].probability)
        self.assertLessEqual(sum(s.probability for s in top), 1.0001)

    def assert_status(self, code, call):
        with self.assertRaises(grpc.RpcError) as caught:
            call()
        self.assertEqual(caught.exception.code(), code, caught.exception.details())
        self.assertTrue(caught.exception.details())
        return caught.exception.details()

    def test_3_errors(self):
        details = self.assert_status(grpc.StatusCode.NOT_FOUND, lambda: self.prediction.Predict(
            prediction_pb2.PredictRequest(model=common_pb2.ModelRef(name="no-such-model"),
                                          inputs=[prediction_pb2.Input(image=b"x")])))
        self.assertIn("no-such-model", details)
        bad_t = tiny_recipe("py-bad", temperature=wrappers_pb2.FloatValue(value=-1.0))
        details = self.assert_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: list(
            self.training.Train(training_pb2.TrainRequest(recipe=bad_t))))
        self.assertIn("temperature", details)
        # The server keeps serving after errors.
        self.assertTrue(self.models.ListModels(models_pb2.ListModelsRequest()).models)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)
