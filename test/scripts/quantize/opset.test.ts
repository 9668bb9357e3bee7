import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, makeFloatTensor, makeNode, makeInt64Tensor } from '../../../scripts/quantize/onnx.ts';
import { upgradeOpset } from '../../../scripts/quantize/opset.ts';
import { model, rng } from './graphs.ts';

async function run(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const out = await s.run({ x: new ort.Tensor('float32', x, dims) });
    return Object.fromEntries(Object.keys(out).map((k) => [k, { data: out[k].data as Float32Array, dims: out[k].dims }]));
  } finally {
    await s.release();
  }
}

const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v });
const int = (name: string, v: number) => ({ name, type: 2, i: v });
const float = (name: string, v: number) => ({ name, type: 1, f: v });
const str = (name: string, v: string) => ({ name, type: 3, s: Buffer.from(v) });

describe('opset upgrade 9 -> 13', () => {
  it('rewrites attribute-to-input moves and semantic changes without changing outputs', async () => {
    // x [2, 3, 4, 5]
    const nodes = [
      makeNode('Unsqueeze', ['x'], ['u'], 'unsq', [ints('axes', [0])]), // [1,2,3,4,5]
      makeNode('Squeeze', ['u'], ['sq'], 'sq', [ints('axes', [0])]), // [2,3,4,5]
      makeNode('Slice', ['sq'], ['sl'], 'slice', [ints('starts', [1, 0]), ints('ends', [1000, 3]), ints('axes', [1, 3])]),
      makeNode('Clip', ['sl'], ['cl'], 'clip', [float('min', -0.2), float('max', 0.4)]),
      makeNode('Pad', ['cl'], ['pd'], 'pad', [ints('pads', [0, 0, 1, 0, 0, 0, 0, 2]), float('value', 0.5)]),
      // Softmax over the flattened block from axis 1 (pre-13 semantics) on a rank-4 tensor.
      makeNode('Softmax', ['pd'], ['sm'], 'softmax', [int('axis', 1)]),
      makeNode('Upsample', ['sm', 'scales'], ['up'], 'upsample', [str('mode', 'nearest')]),
      makeNode('ReduceSum', ['up'], ['rs'], 'reducesum', [ints('axes', [3]), int('keepdims', 1)]),
      makeNode('Split', ['rs'], ['s0', 's1'], 'split', [int('axis', 2), ints('split', [3, 7])]),
      makeNode('LogSoftmax', ['s1'], ['y'], 'logsoftmax', [int('axis', 2)]),
    ];
    const m9 = model(9, nodes, [makeFloatTensor('scales', [4], [1, 1, 2, 1])], [['x', [2, 3, 4, 5]]], ['y', 's0']);
    const bytes9 = encodeModel(m9);
    const m13 = decodeModel(bytes9);
    const report = upgradeOpset(m13, 13);
    expect(report.from).toBe(9);
    expect(report.to).toBe(13);
    expect(report.rewritten.join('\n')).toMatch(/Softmax node 'softmax'.*Flatten/);
    expect(report.rewritten.join('\n')).toMatch(/Upsample node 'upsample'.*Resize-13/);
    const bytes13 = encodeModel(m13);
    const r = rng(5);
    const x = Float32Array.from({ length: 120 }, () => r() * 4 - 2);
    const a = await run(bytes9, x, [2, 3, 4, 5]);
    const b = await run(bytes13, x, [2, 3, 4, 5]);
    for (const k of ['y', 's0']) {
      expect(b[k].dims).toEqual(a[k].dims);
      for (let i = 0; i < a[k].data.length; i++) expect(b[k].data[i]).toBeCloseTo(a[k].data[i], 5);
    }
  });

  it('keeps a last-axis Softmax as it is when the rank is known', () => {
    const m = model(9, [makeNode('Softmax', ['x'], ['y'], 's', [int('axis', 2)])], [], [['x', [1, 4, 2]]], ['y']);
    const report = upgradeOpset(m, 13, { ranks: new Map([['x', 3]]) });
    expect(report.rewritten).toEqual([]);
    expect(m.graph.node.map((n) => n.opType)).toEqual(['Softmax']);
  });

  it('leaves models already at opset 13 alone', () => {
    const m = model(13, [makeNode('Relu', ['x'], ['y'], 'r')], [makeInt64Tensor('unused', [1], [1])], [['x', [1]]], ['y']);
    expect(upgradeOpset(m, 13)).toEqual({ from: 13, to: 13, rewritten: [] });
  });
});
