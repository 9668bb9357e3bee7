import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { toFeeds } from '../../../scripts/quantize/calibrate.ts';
import { equalizePairs, findEqualizePairs } from '../../../scripts/quantize/equalize.ts';
import { compareModels, prepareQuantization, quantizeModel } from '../../../scripts/quantize/index.ts';
import { decodeModel, encodeModel, makeFloatTensor, makeNode } from '../../../scripts/quantize/onnx.ts';
import { decomposePRelu, dedupeInitializers } from '../../../scripts/quantize/qdq.ts';
import { optimizedOpCounts } from '../../../scripts/quantize/verify.ts';
import { model, randomTensor, rng, samples } from './graphs.ts';

const C = 8;
const convAttrs = (k: number, group = 1) => [
  { name: 'kernel_shape', type: 7, ints: [k, k] },
  { name: 'pads', type: 7, ints: k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0] },
  { name: 'group', type: 2, i: group },
];

/** x [1,3,8,8] -> Conv 3x3 (C) -> PRelu -> depthwise Conv 3x3 -> PRelu -> Conv 1x1 -> y */
function preluNet(slopeMax = 0.9): Uint8Array {
  const r = rng(21);
  const slope = (name: string) => makeFloatTensor(name, [C, 1, 1], Array.from({ length: C }, () => r() * slopeMax));
  // Channels of very different scale, as BatchNorm folding leaves them.
  const w1 = randomTensor('w1', [C, 3, 3, 3], 0.5, r);
  const d = w1.rawData!;
  const f = new Float32Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));
  for (let i = 0; i < f.length; i++) f[i] *= [0.05, 1, 4, 0.2, 1, 2, 0.1, 1][Math.floor(i / 27)];
  const w1s = makeFloatTensor('w1', [C, 3, 3, 3], f);
  return encodeModel(
    model(
      13,
      [
        makeNode('Conv', ['x', 'w1', 'b1'], ['c1'], 'conv1', convAttrs(3)),
        makeNode('PRelu', ['c1', 's1'], ['p1'], 'prelu1'),
        makeNode('Conv', ['p1', 'wd', 'bd'], ['c2'], 'dw', convAttrs(3, C)),
        makeNode('PRelu', ['c2', 's2'], ['p2'], 'prelu2'),
        makeNode('Conv', ['p2', 'w3'], ['y'], 'proj', convAttrs(1)),
      ],
      [w1s, randomTensor('b1', [C], 0.1, r), slope('s1'), randomTensor('wd', [C, 1, 3, 3], 0.5, r), randomTensor('bd', [C], 0.1, r), slope('s2'), randomTensor('w3', [4, C, 1, 1], 0.5, r)],
      [['x', [1, 3, 8, 8]]],
      ['y'],
    ),
  );
}

async function outputsOf(bytes: Uint8Array, feeds: ReturnType<typeof samples>): Promise<Float32Array[]> {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const out: Float32Array[] = [];
    for (const f of feeds) out.push((await s.run(toFeeds(f))).y.data as Float32Array);
    return out;
  } finally {
    await s.release();
  }
}

const maxDiff = (a: Float32Array[], b: Float32Array[]) => Math.max(...a.map((x, i) => Math.max(...x.map((v, k) => Math.abs(v - b[i][k])))));

describe('float-equivalent rewrites', () => {
  const feeds = samples(4, [1, 3, 8, 8], 5);

  it('decomposePRelu: x + Relu((s - 1) x) gives the PRelu output', async () => {
    const bytes = preluNet();
    const m = decodeModel(bytes);
    expect(decomposePRelu(m.graph)).toEqual(['prelu1', 'prelu2']);
    expect(m.graph.node.some((n) => n.opType === 'PRelu')).toBe(false);
    expect(maxDiff(await outputsOf(bytes, feeds), await outputsOf(encodeModel(m), feeds))).toBeLessThan(1e-5);
  });

  it('decomposePRelu leaves a PRelu with a slope above 1 alone', () => {
    const m = decodeModel(preluNet(1.5));
    const slopes = m.graph.initializer.filter((t) => t.name === 's1' || t.name === 's2');
    expect(slopes).toHaveLength(2);
    const done = decomposePRelu(m.graph);
    expect(m.graph.node.filter((n) => n.opType === 'PRelu')).toHaveLength(2 - done.length);
  });

  it('equalizePairs rescales Conv -> PRelu -> depthwise Conv without changing the output', async () => {
    const bytes = preluNet();
    const m = decodeModel(bytes);
    const pairs = findEqualizePairs(m.graph);
    expect(pairs.map((p) => `${p.a.name}>${p.b.name}`)).toEqual(['conv1>dw']);
    const absMax = new Map([['c1', Float64Array.from([0.05, 1, 4, 0.2, 1, 2, 0.1, 1])]]);
    expect(equalizePairs(m.graph, pairs, absMax)).toBe(1);
    expect(maxDiff(await outputsOf(bytes, feeds), await outputsOf(encodeModel(m), feeds))).toBeLessThan(1e-4);
  });

  it('dedupeInitializers shares identical constants', () => {
    const t = randomTensor('a', [128], 1, rng(1));
    const m = model(13, [makeNode('Add', ['x', 'a'], ['s'], 'add1'), makeNode('Mul', ['s', 'b'], ['y'], 'mul')], [t, { ...t, name: 'b' }], [['x', [128]]], ['y']);
    expect(dedupeInitializers(m.graph)).toBe(512);
    expect(m.graph.initializer.map((i) => i.name)).toEqual(['a']);
    expect(m.graph.node[1].input).toEqual(['s', 'a']);
  });
});

describe('quantizing a PRelu network', () => {
  const calib = samples(24, [1, 3, 8, 8], 3);
  const evalSet = samples(8, [1, 3, 8, 8], 4);

  it('runs every PRelu in int8 and stays close to the float model', async () => {
    const fp32 = preluNet();
    const { bytes, report } = await quantizeModel(fp32, calib, { method: 'minmax' });
    expect(report.preluRewritten).toBe(2);
    expect(report.equalizedPairs).toBe(1);
    const ops = await optimizedOpCounts(bytes, 1);
    expect(ops.PRelu).toBeUndefined();
    expect(ops.QLinearConv).toBe(5); // 3 convs + 2 depthwise 1x1 for the PRelus
    const cmp = await compareModels(fp32, bytes, evalSet);
    expect(cmp.cosine).toBeGreaterThan(0.995);
  });

  it('equalization helps the channels of very different scale', async () => {
    const fp32 = preluNet();
    const errs: number[] = [];
    for (const equalize of [false, true]) {
      const prep = await prepareQuantization(fp32, calib, { equalize });
      errs.push((await compareModels(fp32, prep.build('minmax').bytes, evalSet)).relError);
    }
    expect(errs[1]).toBeLessThan(errs[0]);
  });
});
