/**
 * The TFLite -> ONNX converter, checked against outputs computed independently: a naive NHWC
 * interpreter (scripts/tflite/interpreter.ts) runs the TFLite file's own ops and weights, PReLU
 * still spelled out in five ops, on real aligned face crops; onnxruntime runs the converted graph.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../../core/models/fetch.ts';
import { MOBILEFACENET } from '../../../core/models/manifest.ts';
import { defaultVisionConfig } from '../../../core/vision/config.ts';
import { VisionEngine } from '../../../core/vision/engine.ts';
import { decodeModel, dimsOf, floatData, getAttr } from '../../../scripts/quantize/onnx.ts';
import { FlatBufferError, rootTable } from '../../../scripts/tflite/flatbuffer.ts';
import { interpret } from '../../../scripts/tflite/interpreter.ts';
import { convertMobileFaceNet, MOBILEFACENET_INPUT_SHIFT, mobileFaceNetTflitePath } from '../../../scripts/tflite/mobilefacenet.ts';
import { readTflite } from '../../../scripts/tflite/reader.ts';
import { ohwiToOihw, samePads } from '../../../scripts/tflite/to-onnx.ts';
import { fixture, repoRoot, skipReason } from '../../helpers.ts';

const modelDir = join(repoRoot, 'models');
const tflitePath = mobileFaceNetTflitePath(modelDir);
const hasTflite = existsSync(tflitePath) && existsSync(join(modelDir, 'fr_feature.onnx'));

const cos = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  let x = 0;
  let y = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    x += a[i] * a[i];
    y += b[i] * b[i];
  }
  return d / Math.sqrt(x * y);
};

describe('TFLite converter pieces', () => {
  it('resolves SAME padding as TensorFlow does (odd pixel after)', () => {
    expect(samePads(112, 3, 2, 1)).toEqual([0, 1]);
    expect(samePads(56, 3, 1, 1)).toEqual([1, 1]);
    expect(samePads(7, 1, 1, 1)).toEqual([0, 0]);
    expect(samePads(10, 3, 1, 2)).toEqual([2, 2]);
  });

  it('transposes OHWI weights to OIHW', () => {
    // O=2, H=1, W=2, I=3: value = o*100 + w*10 + i.
    const w = Float32Array.from([0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112]);
    expect([...ohwiToOihw(w, [2, 1, 2, 3])]).toEqual([0, 10, 1, 11, 2, 12, 100, 110, 101, 111, 102, 112]);
  });

  it('refuses a file that is not TFLite or is cut short', () => {
    const buf = Buffer.alloc(16);
    buf.writeUInt32LE(8, 0);
    buf.write('ONNX', 4, 'latin1');
    expect(() => rootTable(buf, 'TFL3')).toThrow(/identifier is 'ONNX'/);
    buf.write('TFL3', 4, 'latin1');
    buf.writeInt32LE(-1000, 8); // vtable far outside the buffer
    expect(() => rootTable(buf, 'TFL3')).toThrow(FlatBufferError);
  });
});

describe.skipIf(skipReason(hasTflite, `models/MobileFaceNet.tflite or the vision models absent (npm run fetch-models)`))('MobileFaceNet converted to ONNX', () => {
  let tflite: Buffer;
  let onnx: Uint8Array;
  const crops: Float32Array[] = [];

  beforeAll(async () => {
    tflite = readFileSync(tflitePath);
    onnx = convertMobileFaceNet(tflite, tflitePath);
    // The aligned crops the main embedder gets, from the engine itself.
    const cfg = defaultVisionConfig();
    cfg.modelDir = modelDir;
    const engine = await VisionEngine.create(cfg, {
      onModelInput: (kind, data) => {
        if (kind === 'feature') crops.push(Float32Array.from(data));
      },
    });
    try {
      for (const f of ['grace_hopper.jpg', 'astronaut_eileen_collins.png']) await engine.analyzeImage(readFileSync(fixture(f)), { embed: 'primary', liveness: false });
    } finally {
      await engine.close();
    }
  });

  it('reads the file as published (pinned sha256, 230 ops, batch 2 NHWC in, 192-d out)', () => {
    expect(sha256(tflite)).toBe(MOBILEFACENET.tflite_sha256);
    const m = readTflite(tflite);
    expect(m.operators).toHaveLength(230);
    expect(m.tensors[m.inputs[0]].shape).toEqual([2, 112, 112, 3]);
    expect(m.tensors[m.outputs[0]].shape).toEqual([2, 192]);
  });

  it('folds every spelled-out PReLU (slopes <= 1, for the int8 rewrite) and makes the batch dynamic', () => {
    const g = decodeModel(onnx).graph;
    const count = (op: string) => g.node.filter((n) => n.opType === op).length;
    expect(count('PRelu')).toBe(33);
    for (const n of g.node.filter((x) => x.opType === 'PRelu')) {
      expect(Math.max(...floatData(g.initializer.find((t) => t.name === n.input[1])!))).toBeLessThanOrEqual(1);
    }
    expect(count('Abs')).toBe(0);
    expect(count('Relu')).toBe(0);
    expect(g.input[0].type?.tensorType?.shape?.dim.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 3, 112, 112]);
    // Depthwise convolutions become grouped Convs with one input channel per group.
    const dw = g.node.filter((n) => n.opType === 'Conv' && Number(getAttr(n, 'group')?.i) > 1);
    expect(dw).toHaveLength(17);
    const w = g.initializer.find((t) => t.name === dw[0].input[1])!;
    expect(dimsOf(w)[1]).toBe(1);
  });

  it('gives what the naive TFLite interpreter gives on aligned faces (cosine > 0.9999), at batch 1 and 2', async () => {
    expect(crops).toHaveLength(2);
    const model = readTflite(tflite);
    const session = await ort.InferenceSession.create(onnx);
    const plane = 112 * 112;
    const batch = new Float32Array(2 * 3 * plane);
    crops.forEach((c, i) => batch.set(c, i * 3 * plane));
    const both = (await session.run({ input: new ort.Tensor('float32', batch, [2, 3, 112, 112]) })).output;
    expect(both.dims).toEqual([2, 192]);
    const refs: Float32Array[] = [];
    for (const [i, crop] of crops.entries()) {
      // The interpreter gets what the TFLite model was trained on: NHWC, (x - 127.5) / 128.
      const nhwc = new Float32Array(3 * plane);
      for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) nhwc[p * 3 + c] = crop[c * plane + p] - MOBILEFACENET_INPUT_SHIFT;
      const ref = interpret(model, nhwc, 1).data;
      refs.push(ref);
      const one = (await session.run({ input: new ort.Tensor('float32', crop, [1, 3, 112, 112]) })).output.data as Float32Array;
      const c1 = cos(ref, one);
      console.log(`face ${i}: 1 - cosine(interpreter, onnx) = ${(1 - c1).toExponential(2)}`);
      expect(c1).toBeGreaterThan(0.9999);
      expect(cos(one, (both.data as Float32Array).subarray(i * 192, (i + 1) * 192))).toBeGreaterThan(0.99999);
    }
    // Two different faces must not embed alike: guards against a converter that outputs a constant.
    expect(cos(refs[0], refs[1])).toBeLessThan(0.8);
    await session.release();
  });
});
