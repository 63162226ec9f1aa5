// A Node client of Distillery: @grpc/grpc-js with the .proto files loaded at run time by @grpc/proto-loader,
// calling Predict (distillery.v1) and ModelInfer (the Open Inference Protocol), and checking that status
// messages arrive exactly as the server wrote them.
//
// Usage: DISTILLERY_TARGET=host:port DISTILLERY_OIP_FIXTURE=fixture.json node --test inference_test.js
// The fixture (written by InferenceClientsTest) names a model with two versions, logits = W x and (the
// newest) 2 W x, for gray 2 x 2 inputs, and gives W and the labels.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const test = require('node:test');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const TARGET = process.env.DISTILLERY_TARGET || 'localhost:8080';
const FIXTURE = JSON.parse(fs.readFileSync(process.env.DISTILLERY_OIP_FIXTURE, 'utf8'));
const MODEL = FIXTURE.model;
const NEWEST = String(FIXTURE.versions[FIXTURE.versions.length - 1]);
const IMAGE = [0.5, -1.0, 2.0, 0.25];

const definition = protoLoader.loadSync(['inference/grpc_predict_v2.proto', 'distillery/v1/prediction.proto'], {
  includeDirs: [path.resolve(__dirname, '..', '..', '..', 'proto')],
  keepCase: true,
  longs: Number,
  defaults: true,
  oneofs: true,
});
const loaded = grpc.loadPackageDefinition(definition);
const inference = new loaded.inference.GRPCInferenceService(TARGET, grpc.credentials.createInsecure());
const prediction = new loaded.distillery.v1.Prediction(TARGET, grpc.credentials.createInsecure());

/** Calls a unary method and resolves with its reply, or rejects with the grpc-js error (code, details). */
function call(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + 60_000 }, (error, reply) => (error ? reject(error) : resolve(reply)));
  });
}

/** scale * W x with the fixture's weights (classes x pixels, row-major). */
function logits(image, scale) {
  return FIXTURE.labels.map((_, c) => scale * image.reduce((sum, x, p) => sum + FIXTURE.weights[c * image.length + p] * x, 0));
}

function softmax(values) {
  const top = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - top));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

function assertClose(expected, actual, tolerance) {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => assert.ok(Math.abs(e - actual[i]) <= tolerance, `value ${i}: expected ${e}, got ${actual[i]}`));
}

function littleEndianFloats(values) {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buffer.writeFloatLE(v, i * 4));
  return buffer;
}

function readFloats(buffer) {
  return Array.from({ length: buffer.length / 4 }, (_, i) => buffer.readFloatLE(i * 4));
}

function readStrings(buffer) {
  const out = [];
  for (let at = 0; at < buffer.length;) {
    const length = buffer.readUInt32LE(at);
    out.push(buffer.subarray(at + 4, at + 4 + length).toString('utf8'));
    at += 4 + length;
  }
  return out;
}

function rawInput() {
  return {
    model_name: MODEL,
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 1, 2, 2] }],
    raw_input_contents: [littleEndianFloats(IMAGE)],
  };
}

test('Predict classifies a tensor with the newest version', async () => {
  const reply = await call(prediction, 'Predict', {
    model: { name: MODEL },
    inputs: [{ tensor: { shape: [1, 2, 2], values: IMAGE } }],
    top_k: 3,
  });
  assert.equal(String(reply.model.version), NEWEST);
  const probabilities = softmax(logits(IMAGE, 2));
  const order = [0, 1, 2].sort((a, b) => probabilities[b] - probabilities[a]);
  const top = reply.classifications[0].top;
  assert.deepEqual(top.map((s) => s.index), order);
  assert.deepEqual(top.map((s) => s.label), order.map((c) => FIXTURE.labels[c]));
  assertClose(order.map((c) => probabilities[c]), top.map((s) => s.probability), 1e-5);
});

test('Predict refusals arrive with their punctuation intact', async () => {
  await assert.rejects(call(prediction, 'Predict', { model: { name: MODEL }, inputs: [] }), (error) => {
    assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(error.details, 'no inputs: send at least one image or tensor');
    return true;
  });
});

test('ModelInfer with raw FP32 contents gives logits and probabilities', async () => {
  const reply = await call(inference, 'ModelInfer', rawInput());
  assert.equal(reply.model_version, NEWEST);
  assert.deepEqual(reply.outputs.map((o) => [o.name, o.datatype, o.shape]),
    [['logits', 'FP32', [1, 3]], ['probabilities', 'FP32', [1, 3]]]);
  assertClose(logits(IMAGE, 2), readFloats(reply.raw_output_contents[0]), 1e-4);
  assertClose(softmax(logits(IMAGE, 2)), readFloats(reply.raw_output_contents[1]), 1e-6);
});

test('ModelInfer classification returns value:index:label', async () => {
  const request = rawInput();
  request.outputs = [{ name: 'logits', parameters: { classification: { int64_param: 1 } } }];
  const reply = await call(inference, 'ModelInfer', request);
  assert.deepEqual([reply.outputs[0].datatype, reply.outputs[0].shape], ['BYTES', [1, 1]]);
  const scores = logits(IMAGE, 2);
  const best = scores.indexOf(Math.max(...scores));
  const [value, index, ...rest] = readStrings(reply.raw_output_contents[0])[0].split(':');
  const label = rest.join(':');
  assert.equal(Number(index), best);
  assert.equal(label, FIXTURE.labels[best]);
  assert.ok(Math.abs(Number(value) - scores[best]) < 1e-4, `${value} vs ${scores[best]}`);
});

test('ModelInfer refusals arrive exactly as the server wrote them', async () => {
  const shape = rawInput();
  shape.inputs[0].shape = [1, 4];
  await assert.rejects(call(inference, 'ModelInfer', shape), (error) => {
    assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(error.details, "input 'input' must have shape [batch, channels, height, width] "
      + '(ModelMetadata gives the last three), got [1, 4]');
    return true;
  });
  // Every URI-reserved character, a percent sign, an escape look-alike and non-ASCII text, echoed back.
  const name = "odd: /?#[]@!$&'()*+,;= 100% %3A café";
  const output = rawInput();
  output.outputs = [{ name }];
  await assert.rejects(call(inference, 'ModelInfer', output), (error) => {
    assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(error.details, `unexpected output '${name}' for model '${MODEL}': the outputs are 'logits' and 'probabilities'`);
    return true;
  });
  await assert.rejects(call(inference, 'ModelInfer', { ...rawInput(), model_name: 'no-such-model' }), (error) => {
    assert.equal(error.code, grpc.status.NOT_FOUND);
    assert.match(error.details, /no-such-model/);
    return true;
  });
});

test.after(() => {
  inference.close();
  prediction.close();
});
