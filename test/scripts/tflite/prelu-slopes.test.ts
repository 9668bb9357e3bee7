/** PRelu slopes above 1 rewritten away (scripts/tflite/prelu-slopes.ts) without changing outputs. */
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { NodeProto, TensorProto } from '../../../scripts/quantize/onnx.ts';
import { encodeModel, floatData, intAttr, intsAttr, makeFloatTensor, makeNode, tensorValueInfo } from '../../../scripts/quantize/onnx.ts';
import { DataType } from '../../../scripts/quantize/onnx-schema.ts';
import { boundPreluSlopes } from '../../../scripts/tflite/prelu-slopes.ts';

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.8);

/** input -> Conv(3x3, pad 1) -> PRelu(slopes) -> depthwise Conv(3x3, pad 1) and dense Conv(1x1) -> Add. */
function graph(slopes: number[]): { nodes: NodeProto[]; inits: TensorProto[] } {
  const c = slopes.length;
  const conv = [intsAttr('kernel_shape', [3, 3]), intsAttr('pads', [1, 1, 1, 1])];
  return {
    nodes: [
      makeNode('Conv', ['x', 'w1', 'b1'], ['c1'], 'conv1', conv),
      makeNode('PRelu', ['c1', 'slope'], ['p'], 'prelu'),
      makeNode('Conv', ['p', 'wd'], ['d'], 'dw', [...conv, intAttr('group', c)]),
      makeNode('Conv', ['p', 'w2', 'b2'], ['e'], 'dense', [intsAttr('kernel_shape', [1, 1])]),
      makeNode('Add', ['d', 'e'], ['y'], 'add'),
    ],
    inits: [
      makeFloatTensor('w1', [c, 2, 3, 3], values(c * 18, 1)),
      makeFloatTensor('b1', [c], values(c, 2)),
      makeFloatTensor('slope', [c, 1, 1], slopes),
      makeFloatTensor('wd', [c, 1, 3, 3], values(c * 9, 3)),
      makeFloatTensor('w2', [c, c, 1, 1], values(c * c, 4)),
      makeFloatTensor('b2', [c], values(c, 5)),
    ],
  };
}

async function run(nodes: NodeProto[], inits: TensorProto[], x: Float32Array): Promise<Float32Array> {
  const bytes = encodeModel({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    graph: { name: 't', node: nodes, initializer: inits, input: [tensorValueInfo('x', DataType.FLOAT, [1, 2, 5, 5])], output: [tensorValueInfo('y', DataType.FLOAT)], valueInfo: [] },
  });
  const s = await ort.InferenceSession.create(bytes);
  return (await s.run({ x: new ort.Tensor('float32', x, [1, 2, 5, 5]) })).y.data as Float32Array;
}

describe('boundPreluSlopes', () => {
  it('brings every slope to <= 1 and keeps the outputs, borders included', async () => {
    const slopes = [3, 0.25, 8.5, -0.5];
    const x = values(50, 9).map((v) => v * 3);
    const before = graph(slopes);
    const want = await run(before.nodes, before.inits, x);
    const after = graph(slopes);
    expect(boundPreluSlopes(after.nodes, after.inits)).toEqual({ rewritten: 1, channels: 2 });
    const s = floatData(after.inits.find((t) => t.name === 'slope')!);
    expect([...s].every((v) => v <= 1)).toBe(true);
    expect(s[1]).toBe(0.25); // channels already <= 1 are left alone
    const got = await run(after.nodes, after.inits, x);
    // Float rounding of the rescaled weights only: a few ulps of the output's scale.
    const scale = Math.max(...want.map(Math.abs));
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-6 * scale);
  });

  it('leaves a PRelu alone when something other than a Conv reads it', () => {
    const g = graph([3, 0.5]);
    g.nodes.push(makeNode('Relu', ['p'], ['r'], 'other'));
    expect(boundPreluSlopes(g.nodes, g.inits).rewritten).toBe(0);
  });
});
