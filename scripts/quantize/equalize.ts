/**
 * Channel equalization ahead of a depthwise convolution. With per-tensor activation
 * quantization, one tensor's channels share one uint8 grid: a channel whose values span 0.1
 * next to one spanning 10 keeps barely 3 levels. Where a Conv A feeds a depthwise Conv B,
 * possibly through a per-channel Relu / PRelu (both commute with a positive per-channel
 * scale), A's output channel c can be divided by k_c and B's weights for channel c multiplied
 * by k_c: the float model computes the same thing, every channel of the tensor between them
 * now spans about the same range, and since weights are quantized per output channel neither
 * A's nor B's weight quantization gets worse. (Cross-layer equalization, Nagel et al. 2019,
 * here driven by measured activation ranges.)
 */
import type { GraphProto, NodeProto } from './onnx.ts';
import { attrInt, consumerMap, dimsOf, floatData, initializerMap, isDefaultDomain, makeFloatTensor, producerMap } from './onnx.ts';

export interface EqualizePair {
  /** Conv whose output channels are scaled down. */
  a: NodeProto;
  /** The per-channel activation between them, if any. */
  act?: NodeProto;
  /** Conv whose input-channel weights are scaled up (depthwise, or dense when allowed). */
  b: NodeProto;
  depthwise: boolean;
  /** A's output tensor (its per-channel ranges decide the scales). */
  tensor: string;
}

/** Conv -> [Relu | PRelu] -> depthwise Conv chains whose middle tensors have no other reader. */
export function findEqualizePairs(g: GraphProto, excluded: ReadonlySet<string> = new Set(), dense = false): EqualizePair[] {
  const inits = initializerMap(g);
  const consumers = consumerMap(g);
  const producers = producerMap(g);
  const graphOutputs = new Set(g.output.map((o) => o.name));
  const isConv = (n: NodeProto | undefined) =>
    !!n && n.opType === 'Conv' && isDefaultDomain(n) && !excluded.has(n.name ?? '') && inits.get(n.input[1])?.dims.length === 4;
  const pairs: EqualizePair[] = [];
  for (const b of g.node) {
    if (!isConv(b)) continue;
    const wb = dimsOf(inits.get(b.input[1])!);
    const group = attrInt(b, 'group', 1);
    const depthwise = wb[1] === 1 && group === wb[0]; // channel multiplier 1
    if (!depthwise && !(dense && group === 1)) continue;
    const channels = depthwise ? wb[0] : wb[1];
    let t = b.input[0];
    let act: NodeProto | undefined;
    const p = producers.get(t);
    if (p && isDefaultDomain(p) && (p.opType === 'Relu' || p.opType === 'PRelu')) {
      if (p.opType === 'PRelu') {
        const s = inits.get(p.input[1]);
        if (!s) continue;
        const sd = dimsOf(s);
        const n = sd.reduce((x, y) => x * y, 1);
        // scalar slope, or per channel ([C,1,1] / [1,C,1,1])
        if (n !== 1 && !(n === channels && sd[sd.length - 1] === 1 && sd[sd.length - 2] === 1)) continue;
      }
      if ((consumers.get(t) ?? []).length !== 1 || graphOutputs.has(t)) continue;
      act = p;
      t = p.input[0];
    }
    const a = producers.get(t);
    if (!isConv(a) || (consumers.get(t) ?? []).length !== 1 || graphOutputs.has(t)) continue;
    if (dimsOf(inits.get(a!.input[1])!)[0] !== channels) continue;
    pairs.push({ a: a!, act, b, tensor: t, depthwise });
  }
  return pairs;
}

/**
 * Applies the scales for `pairs` given each A output's per-channel largest |value|. Channels
 * are brought to the largest channel's range; a channel below `floor` of it (nearly dead) is
 * scaled as if at the floor. Returns the number of pairs changed.
 */
export function equalizePairs(
  g: GraphProto,
  pairs: readonly EqualizePair[],
  absMax: ReadonlyMap<string, Float64Array>,
  opts: { floor?: number; denseStrength?: number } = {},
): number {
  const floor = opts.floor ?? 0.01;
  const inits = initializerMap(g);
  const replace = (name: string, dims: number[], values: Float32Array) => {
    const i = g.initializer.findIndex((t) => t.name === name);
    g.initializer[i] = makeFloatTensor(name, dims, values);
    inits.set(name, g.initializer[i]);
  };
  const readers = consumerMap(g);
  let changed = 0;
  for (const { a, b, tensor, depthwise } of pairs) {
    // Dense consumers: B's per-output-channel weight grids see the scaled columns, so only
    // part of the way (k^strength); depthwise consumers: all the way.
    const strength = depthwise ? 1 : (opts.denseStrength ?? 0.5);
    const r = absMax.get(tensor);
    const wa = inits.get(a.input[1])!;
    const wb = inits.get(b.input[1])!;
    // Weights shared with other nodes cannot be rescaled for this pair alone.
    if (!r || (readers.get(a.input[1]) ?? []).length !== 1 || (readers.get(b.input[1]) ?? []).length !== 1) continue;
    if (a.input[2] && (readers.get(a.input[2]) ?? []).length !== 1) continue;
    const c = r.length;
    const top = Math.max(...r);
    if (!(top > 0)) continue;
    const k = Array.from(r, (v) => (Math.max(v, floor * top) / top) ** strength);
    const da = dimsOf(wa);
    const fa = floatData(wa);
    const inner = fa.length / c;
    for (let i = 0; i < fa.length; i++) fa[i] /= k[Math.floor(i / inner)];
    replace(wa.name!, da, fa);
    if (a.input[2]) {
      const bias = inits.get(a.input[2])!;
      const fb = floatData(bias);
      for (let i = 0; i < c; i++) fb[i] /= k[i];
      replace(bias.name!, dimsOf(bias), fb);
    }
    const db = dimsOf(wb);
    const fw = floatData(wb);
    // weight [M, C/g, kh, kw]: depthwise -> channel = output index; dense -> channel = axis 1.
    const kk = db[2] * db[3];
    for (let i = 0; i < fw.length; i++) {
      const ch = depthwise ? Math.floor(i / kk) : Math.floor(i / kk) % db[1];
      fw[i] *= k[ch];
    }
    replace(wb.name!, db, fw);
    changed++;
  }
  return changed;
}
