import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { rangeFor, toFeeds, type TensorStats, HIST_BINS } from '../../../scripts/quantize/calibrate.ts';
import {
  compareModels,
  int8ModelPath,
  quantizeModel,
  UnsupportedOpError,
} from '../../../scripts/quantize/index.ts';
import { strideSubset } from '../../../scripts/quantize/inputs.ts';
import { decodeModel, encodeModel, defaultOpset, makeNode, toNum } from '../../../scripts/quantize/onnx.ts';
import { ModelProtoType } from '../../../scripts/quantize/onnx-schema.ts';
import { activationParams, quantizeWeight, roundHalfEven } from '../../../scripts/quantize/qdq.ts';
import { optimizedOpCounts } from '../../../scripts/quantize/verify.ts';
import { convAddModel, model, randomTensor, rng, samples } from './graphs.ts';

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const out = await s.run(feeds);
    return Object.fromEntries(Object.keys(out).map((k) => [k, out[k].data as Float32Array]));
  } finally {
    await s.release();
  }
}

const opCounts = (bytes: Uint8Array) => {
  const c: Record<string, number> = {};
  for (const n of decodeModel(bytes).graph.node) c[n.opType!] = (c[n.opType!] ?? 0) + 1;
  return c;
};

describe('quantizeModel on a hand-built Conv + Add graph', () => {
  const fp32 = convAddModel();
  const calib = samples(16, [1, 3, 8, 8], 11);
  const evalSet = samples(8, [1, 3, 8, 8], 99);

  it('stays within tolerance of the float output: relative L2 error < 2%, max abs error < 3% of the output range', async () => {
    const { bytes, report } = await quantizeModel(fp32, calib, { method: 'minmax' });
    expect(report.quantizedNodes).toEqual({ Add: 1, Conv: 2 });
    expect(report.foldedRelu).toBe(1);
    for (const s of evalSet) {
      const f = (await run(fp32, toFeeds(s))).y;
      const q = (await run(bytes, toFeeds(s))).y;
      let d2 = 0;
      let f2 = 0;
      let maxAbs = 0;
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < f.length; i++) {
        d2 += (q[i] - f[i]) ** 2;
        f2 += f[i] ** 2;
        maxAbs = Math.max(maxAbs, Math.abs(q[i] - f[i]));
        lo = Math.min(lo, f[i]);
        hi = Math.max(hi, f[i]);
      }
      expect(Math.sqrt(d2 / f2)).toBeLessThan(0.02);
      expect(maxAbs).toBeLessThan(0.03 * (hi - lo));
    }
    const cmp = await compareModels(fp32, bytes, evalSet);
    expect(cmp.cosine).toBeGreaterThan(0.999);
  });

  it('lays the graph out in QDQ form that onnxruntime fuses into QLinearConv / QLinearAdd', async () => {
    const { bytes } = await quantizeModel(fp32, calib);
    const m = decodeModel(bytes);
    expect(defaultOpset(m)).toBe(13);
    const ops = opCounts(bytes);
    // Q/DQ on x, ca, rb (the Relu is folded into rb's quantization), y: 4 pairs; 2 weight DQ and
    // 2 bias DQ (conv_b gets a bias from bias correction).
    expect(ops.QuantizeLinear).toBe(4);
    expect(ops.DequantizeLinear).toBe(4 + 4);
    expect(ops.Relu).toBeUndefined();
    const init = new Map(m.graph.initializer.map((t) => [t.name, t]));
    expect(init.get('wa_quantized')?.dataType).toBe(3); // int8
    expect(init.get('wa_scale')?.dims.map(toNum)).toEqual([4]); // per channel
    expect(init.get('ba_quantized')?.dataType).toBe(6); // int32
    expect(init.get('x_zero_point')?.dataType).toBe(2); // uint8
    expect(init.has('wa')).toBe(false); // float weight gone
    const wdq = m.graph.node.find((n) => n.name === 'wa_DequantizeLinear')!;
    expect(toNum(wdq.attribute.find((a) => a.name === 'axis')?.i)).toBe(0);
    const optimized = await optimizedOpCounts(bytes, 1);
    expect(optimized.QLinearConv).toBe(2);
    expect(optimized.QLinearAdd).toBe(1);
    expect(optimized.Conv).toBeUndefined();
  });

  it('is deterministic: two runs give identical bytes', async () => {
    const a = await quantizeModel(fp32, calib, { method: 'percentile', percentile: 99.9 });
    const b = await quantizeModel(fp32, calib, { method: 'percentile', percentile: 99.9 });
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    const c = await quantizeModel(fp32, calib, { method: 'entropy' });
    const d = await quantizeModel(fp32, calib, { method: 'entropy' });
    expect(Buffer.from(c.bytes).equals(Buffer.from(d.bytes))).toBe(true);
  });

  it('upgrades an opset-9 model and still matches its float output', async () => {
    const old = convAddModel(9);
    const { bytes, report } = await quantizeModel(old, calib);
    expect(report.opset).toMatchObject({ from: 9, to: 13 });
    const cmp = await compareModels(old, bytes, evalSet);
    expect(cmp.cosine).toBeGreaterThan(0.999);
  });

  it('keeps excluded nodes float', async () => {
    const { bytes, report } = await quantizeModel(fp32, calib, { excludeNodes: ['conv_b'] });
    // The Add reads a tensor the float conv_b made, so it stays float too.
    expect(report.quantizedNodes).toEqual({ Conv: 1 });
    const m = decodeModel(bytes);
    expect(m.graph.initializer.some((t) => t.name === 'wb' && t.dataType === 1)).toBe(true);
    expect(m.graph.node.some((n) => n.opType === 'Relu')).toBe(true);
  });
});

describe('unsupported ops', () => {
  const calib = samples(2, [1, 3, 8, 8]);

  it('rejects a weighted op it cannot quantize, naming the op and the node', async () => {
    const r = rng(3);
    const bytes = encodeModel(
      model(
        13,
        [
          makeNode('Conv', ['x', 'w'], ['c'], 'stem'),
          makeNode('ConvTranspose', ['c', 'wt'], ['y'], 'upsampler'),
        ],
        [randomTensor('w', [4, 3, 1, 1], 0.5, r), randomTensor('wt', [4, 2, 2, 2], 0.5, r)],
        [['x', [1, 3, 8, 8]]],
        ['y'],
      ),
    );
    const err = await quantizeModel(bytes, calib).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedOpError);
    expect((err as Error).message).toMatch(/ConvTranspose node 'upsampler'.*not supported/);
    // Keeping it float is the documented way out.
    const ok = await quantizeModel(bytes, calib, { excludeNodes: ['upsampler'] });
    expect(ok.report.quantizedNodes).toEqual({ Conv: 1 });
  });

  it('rejects op types it does not support when asked to quantize them', async () => {
    await expect(quantizeModel(convAddModel(), calib, { opTypes: ['Conv', 'LSTM'] })).rejects.toThrow(
      /op type 'LSTM' is not supported for quantization/,
    );
  });

  it('rejects a Conv whose weight is not a constant', async () => {
    const bytes = encodeModel(model(13, [makeNode('Conv', ['x', 'w'], ['y'], 'dyn')], [], [['x', [1, 3, 8, 8]], ['w', [4, 3, 1, 1]]], ['y']));
    const feeds = [{ ...calib[0], w: { data: new Float32Array(12).fill(0.1), dims: [4, 3, 1, 1] } }];
    await expect(quantizeModel(bytes, feeds)).rejects.toThrow(/Conv node 'dyn' needs a constant float weight/);
  });

  it('refuses to upgrade an op whose semantics it does not know, naming it', async () => {
    const bytes = encodeModel(
      model(9, [makeNode('Conv', ['x', 'w'], ['c'], 'c1'), makeNode('Scatter', ['c', 'c', 'c'], ['y'], 'legacy_scatter')], [randomTensor('w', [4, 3, 1, 1], 0.5, rng(1))], [['x', [1, 3, 8, 8]]], ['y']),
    );
    await expect(quantizeModel(bytes, calib)).rejects.toThrow(/Scatter node 'legacy_scatter'/);
  });
});

describe('arithmetic', () => {
  it('rounds half to even like numpy', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, 2, 3]);
  });

  it('activation parameters cover 0 and map the range onto 0..255', () => {
    expect(activationParams({ min: 0, max: 2.55 })).toEqual({ scale: Math.fround(0.01), zeroPoint: 0 });
    const p = activationParams({ min: -1, max: 1 });
    expect([127, 128]).toContain(p.zeroPoint);
    expect(activationParams({ min: 0.5, max: 1 }).zeroPoint).toBe(0); // widened to [0, 1]
    expect(activationParams({ min: 0, max: 0 })).toEqual({ scale: 1, zeroPoint: 0 });
  });

  it('quantizes weights symmetrically per channel', () => {
    const w = Float32Array.from([1, -0.5, 0.25, 0, /* channel 1 */ 10, -20, 5, 0]);
    const q = quantizeWeight(w, [2, 4], 0);
    expect(Array.from(q.scales)).toEqual([Math.fround(1 / 127), Math.fround(20 / 127)]);
    expect(Array.from(q.q)).toEqual([127, -64, 32, 0, 64, -127, 32, 0]);
    const zero = quantizeWeight(new Float32Array(4), [1, 4], 0);
    expect(zero.scales[0]).toBe(1);
  });

  it('percentile cuts the tails; minmax keeps them', () => {
    const hist = new Float64Array(HIST_BINS);
    hist.fill(1);
    const s: TensorStats = { min: -1, max: 3, hist, dims: [] };
    expect(rangeFor(s, 'minmax')).toEqual({ min: -1, max: 3 });
    const r = rangeFor(s, 'percentile', 99);
    expect(r.min).toBeGreaterThan(-1);
    expect(r.min).toBeLessThan(-0.97);
    expect(r.max).toBeLessThan(3);
    expect(r.max).toBeGreaterThan(2.97);
  });

  it('takes disjoint, deterministic stride subsets', () => {
    const files = Array.from({ length: 100 }, (_, i) => `f${String(i).padStart(3, '0')}`);
    const a = strideSubset(files, 10, 0);
    const b = strideSubset(files, 10, 0.5);
    expect(a).toHaveLength(10);
    expect(b).toHaveLength(10);
    expect(a.filter((x) => b.includes(x))).toEqual([]);
    expect(strideSubset(files, 10, 0)).toEqual(a);
  });

  it('puts int8 models next to the fp32 ones', () => {
    expect(int8ModelPath('models', 'fr_feature')).toBe(join('models', 'fr_feature.int8.onnx'));
  });
});

describe('ONNX protobuf round trip', () => {
  const file = join(import.meta.dirname, '../../../models/fr_landmark.onnx');
  it.skipIf(!existsSync(file))('decodes and re-encodes a real model without losing fields', () => {
    const bytes = readFileSync(file);
    const again = encodeModel(decodeModel(bytes));
    const a = ModelProtoType.toObject(ModelProtoType.decode(bytes), { longs: String, bytes: String });
    const b = ModelProtoType.toObject(ModelProtoType.decode(again), { longs: String, bytes: String });
    expect(b).toEqual(a);
  });
});

describe('int8 artifacts', () => {
  it('loads an int8 model only when its sidecar vouches for it', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { createHash } = await import('node:crypto');
    const { MODEL_SHA256 } = await import('../../../core/models/manifest.ts');
    const { loadInt8Model, int8ManifestPath } = await import('../../../scripts/quantize/index.ts');
    const dir = mkdtempSync(join(tmpdir(), 'portier-int8-'));
    const bytes = convAddModel();
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(() => loadInt8Model(dir, 'fr_feature')).toThrow(/not found \(run npm run quantize\)/);
    writeFileSync(int8ModelPath(dir, 'fr_feature'), bytes);
    expect(() => loadInt8Model(dir, 'fr_feature')).toThrow(/fr_feature.int8.json not found/);
    const side = { quantizer: 'x', source: 'fr_feature.onnx', source_sha256: MODEL_SHA256.fr_feature, sha256: sha, bytes: bytes.length, calibration: {}, evaluation: {} };
    writeFileSync(int8ManifestPath(dir, 'fr_feature'), JSON.stringify(side));
    expect(Buffer.from(loadInt8Model(dir, 'fr_feature').bytes).equals(Buffer.from(bytes))).toBe(true);
    writeFileSync(int8ManifestPath(dir, 'fr_feature'), JSON.stringify({ ...side, source_sha256: '0'.repeat(64) }));
    expect(() => loadInt8Model(dir, 'fr_feature')).toThrow(/made from other fr_feature weights/);
    writeFileSync(int8ManifestPath(dir, 'fr_feature'), JSON.stringify({ ...side, sha256: '1'.repeat(64) }));
    expect(() => loadInt8Model(dir, 'fr_feature')).toThrow(/refusing it/);
  });
});

describe('input checks', () => {
  it('refuses a model that is quantized already', async () => {
    const calib = samples(4, [1, 3, 8, 8]);
    const { bytes } = await quantizeModel(convAddModel(), calib);
    await expect(quantizeModel(bytes, calib)).rejects.toThrow(/quantized already \(QuantizeLinear node/);
  });
});
