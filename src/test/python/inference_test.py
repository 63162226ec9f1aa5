"""Open Inference Protocol test: Debian's python3-grpcio against a running Distillery server.

Stubs are generated at run time from proto/inference/grpc_predict_v2.proto with grpc_tools
(python3-grpc-tools), as a KServe or Triton user would generate them from the specification.

Usage: DISTILLERY_TARGET=host:port DISTILLERY_OIP_FIXTURE=fixture.json python3 inference_test.py
The fixture (written by InferenceClientsTest) names a model of the server's store with two versions:
logits = W x (the older) and 2 W x (the newest), for gray 2 x 2 inputs; it gives W, the labels and a PNG.
"""
import base64
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import unittest

import grpc

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
TARGET = os.environ.get("DISTILLERY_TARGET", "localhost:8080")
with open(os.environ["DISTILLERY_OIP_FIXTURE"]) as f:
    FIXTURE = json.load(f)
MODEL = FIXTURE["model"]
OLDER, NEWEST = (str(v) for v in FIXTURE["versions"])
LABELS = FIXTURE["labels"]
FIRST = [0.5, -1.0, 2.0, 0.25]
SECOND = [1.0, 0.0, -0.5, 3.0]


def generate_stubs():
    out = tempfile.mkdtemp(prefix="distillery-oip-stubs-")
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", os.path.join(ROOT, "proto"),
                    "--python_out", out, "--grpc_python_out", out,
                    os.path.join("inference", "grpc_predict_v2.proto")],
                   check=True, cwd=os.path.join(ROOT, "proto"))
    sys.path.insert(0, out)


generate_stubs()
from inference import grpc_predict_v2_pb2 as pb  # noqa: E402
from inference import grpc_predict_v2_pb2_grpc as pb_grpc  # noqa: E402


def logits(image, scale):
    """scale * W x, W being the fixture's weights (classes x pixels, row-major)."""
    w = FIXTURE["weights"]
    pixels = len(image)
    return [scale * sum(w[c * pixels + p] * image[p] for p in range(pixels)) for c in range(len(LABELS))]


def softmax(values):
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    return [e / sum(exps) for e in exps]


def floats(raw):
    return list(struct.unpack("<%df" % (len(raw) // 4), raw))


def strings(raw):
    """BYTES raw contents: each element a 4-byte little-endian length, then the bytes."""
    out, at = [], 0
    while at < len(raw):
        (length,) = struct.unpack_from("<I", raw, at)
        out.append(raw[at + 4:at + 4 + length].decode("utf-8"))
        at += 4 + length
    return out


def fp32_input(*images):
    return pb.ModelInferRequest.InferInputTensor(
        name="input", datatype="FP32", shape=[len(images), 1, 2, 2],
        contents=pb.InferTensorContents(fp32_contents=[v for image in images for v in image]))


class InferenceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.channel = grpc.insecure_channel(TARGET)
        grpc.channel_ready_future(cls.channel).result(timeout=60)
        cls.stub = pb_grpc.GRPCInferenceServiceStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()

    def assert_close(self, expected, actual, tolerance=1e-4):
        self.assertEqual(len(expected), len(actual))
        for e, a in zip(expected, actual):
            self.assertAlmostEqual(e, a, delta=tolerance)

    def assert_status(self, code, call):
        with self.assertRaises(grpc.RpcError) as caught:
            call()
        self.assertEqual(caught.exception.code(), code, caught.exception.details())
        return caught.exception.details()

    def test_1_server_health_and_metadata(self):
        self.assertTrue(self.stub.ServerLive(pb.ServerLiveRequest()).live)
        self.assertTrue(self.stub.ServerReady(pb.ServerReadyRequest()).ready)
        metadata = self.stub.ServerMetadata(pb.ServerMetadataRequest())
        self.assertEqual(metadata.name, "distillery")
        self.assertTrue(metadata.version)
        self.assertEqual(list(metadata.extensions), ["classification", "model_repository"])

    def test_2_model_metadata_and_readiness(self):
        metadata = self.stub.ModelMetadata(pb.ModelMetadataRequest(name=MODEL))
        self.assertEqual(metadata.name, MODEL)
        self.assertEqual(list(metadata.versions), [OLDER, NEWEST])
        self.assertEqual(metadata.platform, "onnxruntime_onnx")
        self.assertEqual([(t.name, t.datatype, list(t.shape)) for t in metadata.inputs],
                         [("input", "FP32", [-1, 1, 2, 2]), ("image", "BYTES", [-1])])
        self.assertEqual([(t.name, t.datatype, list(t.shape)) for t in metadata.outputs],
                         [("logits", "FP32", [-1, 3]), ("probabilities", "FP32", [-1, 3])])
        self.assertTrue(self.stub.ModelReady(pb.ModelReadyRequest(name=MODEL)).ready)
        self.assertTrue(self.stub.ModelReady(pb.ModelReadyRequest(name=MODEL, version=OLDER)).ready)
        details = self.assert_status(grpc.StatusCode.NOT_FOUND,
                                     lambda: self.stub.ModelReady(pb.ModelReadyRequest(name="no-such-model")))
        self.assertIn("no-such-model", details)

    def test_3_fp32_contents_and_raw_contents(self):
        reply = self.stub.ModelInfer(pb.ModelInferRequest(model_name=MODEL, id="py-1",
                                                          inputs=[fp32_input(FIRST, SECOND)]))
        self.assertEqual((reply.model_name, reply.model_version, reply.id), (MODEL, NEWEST, "py-1"))
        self.assertEqual([(o.name, o.datatype, list(o.shape)) for o in reply.outputs],
                         [("logits", "FP32", [2, 3]), ("probabilities", "FP32", [2, 3])])
        self.assert_close(logits(FIRST, 2) + logits(SECOND, 2), floats(reply.raw_output_contents[0]))
        self.assert_close(softmax(logits(FIRST, 2)) + softmax(logits(SECOND, 2)), floats(reply.raw_output_contents[1]),
                          1e-6)

        raw = struct.pack("<8f", *(FIRST + SECOND))
        tensor = pb.ModelInferRequest.InferInputTensor(name="input", datatype="FP32", shape=[2, 1, 2, 2])
        older = self.stub.ModelInfer(pb.ModelInferRequest(
            model_name=MODEL, model_version=OLDER, inputs=[tensor], raw_input_contents=[raw],
            outputs=[pb.ModelInferRequest.InferRequestedOutputTensor(name="logits")]))
        self.assertEqual(older.model_version, OLDER)
        self.assertEqual([o.name for o in older.outputs], ["logits"])
        self.assert_close(logits(FIRST, 1) + logits(SECOND, 1), floats(older.raw_output_contents[0]))

    def test_4_encoded_images_as_bytes(self):
        png = base64.b64decode(FIXTURE["image_png_base64"])
        image = pb.ModelInferRequest.InferInputTensor(name="image", datatype="BYTES", shape=[1],
                                                      contents=pb.InferTensorContents(bytes_contents=[png]))
        reply = self.stub.ModelInfer(pb.ModelInferRequest(model_name=MODEL, model_version=OLDER, inputs=[image]))
        self.assert_close(logits(FIXTURE["image_values"], 1), floats(reply.raw_output_contents[0]))

        raw = pb.ModelInferRequest.InferInputTensor(name="image", datatype="BYTES", shape=[2, 1])
        both = self.stub.ModelInfer(pb.ModelInferRequest(
            model_name=MODEL, model_version=OLDER, inputs=[raw],
            raw_input_contents=[struct.pack("<I", len(png)) + png + struct.pack("<I", len(png)) + png]))
        self.assert_close(logits(FIXTURE["image_values"], 1) * 2, floats(both.raw_output_contents[0]))

    def test_5_classification_extension(self):
        requested = pb.ModelInferRequest.InferRequestedOutputTensor(
            name="probabilities", parameters={"classification": pb.InferParameter(int64_param=2)})
        reply = self.stub.ModelInfer(pb.ModelInferRequest(model_name=MODEL, inputs=[fp32_input(FIRST, SECOND)],
                                                          outputs=[requested]))
        output = reply.outputs[0]
        self.assertEqual((output.name, output.datatype, list(output.shape)), ("probabilities", "BYTES", [2, 2]))
        elements = strings(reply.raw_output_contents[0])
        for row, image in enumerate([FIRST, SECOND]):
            probabilities = softmax(logits(image, 2))
            order = sorted(range(3), key=lambda c: -probabilities[c])
            for k in range(2):
                value, index, label = elements[row * 2 + k].split(":", 2)
                self.assertEqual(int(index), order[k])
                self.assertEqual(label, LABELS[order[k]])
                self.assertAlmostEqual(float(value), probabilities[order[k]], delta=1e-5)

    def test_6_errors(self):
        details = self.assert_status(grpc.StatusCode.NOT_FOUND, lambda: self.stub.ModelInfer(
            pb.ModelInferRequest(model_name="no-such-model", inputs=[fp32_input(FIRST)])))
        self.assertIn("no-such-model", details)
        wrong_shape = pb.ModelInferRequest.InferInputTensor(
            name="input", datatype="FP32", shape=[1, 4], contents=pb.InferTensorContents(fp32_contents=FIRST))
        details = self.assert_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: self.stub.ModelInfer(
            pb.ModelInferRequest(model_name=MODEL, inputs=[wrong_shape])))
        self.assertEqual(details, "input 'input' must have shape [batch, channels, height, width] "
                                  "(ModelMetadata gives the last three), got [1, 4]")
        fp64 = fp32_input(FIRST)
        fp64.datatype = "FP64"
        details = self.assert_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: self.stub.ModelInfer(
            pb.ModelInferRequest(model_name=MODEL, inputs=[fp64])))
        self.assertEqual(details, "input 'input' has datatype 'FP64'; it takes FP32")
        details = self.assert_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: self.stub.ModelInfer(
            pb.ModelInferRequest(model_name=MODEL, model_version="newest", inputs=[fp32_input(FIRST)])))
        self.assertIn("model version 'newest' is not a version number", details)
        self.assertTrue(self.stub.ServerLive(pb.ServerLiveRequest()).live, "the server keeps serving")

    def test_7_repository_unload_and_load(self):
        def state():
            return {m.name: (m.version, m.state, m.reason)
                    for m in self.stub.RepositoryIndex(pb.RepositoryIndexRequest()).models}

        self.assertEqual(state()[MODEL], (NEWEST, "READY", ""))
        # Triton's client sends unload_dependents with every unload.
        self.stub.RepositoryModelUnload(pb.RepositoryModelUnloadRequest(
            model_name=MODEL, parameters={"unload_dependents": pb.ModelRepositoryParameter(bool_param=False)}))
        self.assertEqual(state()[MODEL], (NEWEST, "UNAVAILABLE",
                                          "unloaded: load the model (RepositoryModelLoad) to serve it again"))
        ready = [m.name for m in self.stub.RepositoryIndex(pb.RepositoryIndexRequest(ready=True)).models]
        self.assertNotIn(MODEL, ready)
        self.assertFalse(self.stub.ModelReady(pb.ModelReadyRequest(name=MODEL)).ready)
        self.assert_status(grpc.StatusCode.FAILED_PRECONDITION, lambda: self.stub.ModelInfer(
            pb.ModelInferRequest(model_name=MODEL, inputs=[fp32_input(FIRST)])))

        self.stub.RepositoryModelLoad(pb.RepositoryModelLoadRequest(model_name=MODEL))
        self.assertEqual(state()[MODEL], (NEWEST, "READY", ""))
        self.assertTrue(self.stub.ModelReady(pb.ModelReadyRequest(name=MODEL)).ready)
        reply = self.stub.ModelInfer(pb.ModelInferRequest(model_name=MODEL, inputs=[fp32_input(FIRST)]))
        self.assert_close(logits(FIRST, 2), floats(reply.raw_output_contents[0]))


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)
