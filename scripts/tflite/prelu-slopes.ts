/**
 * Rewrites PRelu channels whose slope s > 1 so that every slope is at most 1, without changing
 * what the graph computes. Why: the quantizer runs a PRelu in int8 only when its slopes are <= 1
 * (decomposePRelu in scripts/quantize/qdq.ts: x + Relu((s - 1) x)); MobileFaceNet has channels
 * with slopes up to ~9 in all 33 PRelus, which left every one of them float between
 * Dequantize/Quantize pairs and its int8 model no faster than fp32.
 *
 * For any s != 0:  PRelu(x; s) = -s * PRelu(-x; 1/s)
 *   (x <= 0: -s * (-x) = s x;  x > 0: -s * (1/s) * (-x) = x.)
 * So for such a channel c: negate channel c of the Conv producing x (weights and bias: exact),
 * use slope 1/s, and multiply input channel c of every Conv reading the PRelu by -s. Zero padding
 * in those Convs stays zero under the scaling, so borders are unaffected. Applied only where the
 * producer is a Conv read by nothing else and every consumer is a Conv taking it as data input.
 */
import type { NodeProto, TensorProto } from '../quantize/onnx.ts';
import { attrInt, dimsOf, floatData, makeFloatTensor } from '../quantize/onnx.ts';

export function boundPreluSlopes(nodes: NodeProto[], inits: TensorProto[]): { rewritten: number; channels: number } {
  const byName = new Map(inits.map((t, i) => [t.name!, i]));
  const get = (name: string) => floatData(inits[byName.get(name)!]);
  const put = (name: string, data: Float32Array) => {
    const i = byName.get(name)!;
    inits[i] = makeFloatTensor(name, dimsOf(inits[i]), data);
  };
  const consumers = (t: string) => nodes.filter((n) => n.input.includes(t));
  // An initializer shared by two nodes cannot be scaled for one of them.
  const shared = (name: string) => nodes.filter((n) => n.input.includes(name)).length > 1;
  let rewritten = 0;
  let channels = 0;
  for (const p of nodes) {
    if (p.opType !== 'PRelu' || !byName.has(p.input[1])) continue;
    const slope = get(p.input[1]);
    const over = [...slope.keys()].filter((c) => slope[c] > 1);
    if (!over.length) continue;
    const prod = nodes.find((n) => n.output.includes(p.input[0]));
    const users = consumers(p.output[0]);
    const ok =
      prod?.opType === 'Conv' &&
      consumers(p.input[0]).length === 1 &&
      [prod, ...users].every((n) => n.opType === 'Conv' && byName.has(n.input[1]) && !shared(n.input[1]) && (!n.input[2] || !shared(n.input[2]))) &&
      users.every((u) => u.input[0] === p.output[0]) &&
      !shared(p.input[1]);
    if (!ok) continue;
    const pw = get(prod.input[1]);
    const per = pw.length / dimsOf(inits[byName.get(prod.input[1])!])[0];
    const pb = prod.input[2] ? get(prod.input[2]) : undefined;
    const userW = users.map((u) => ({ u, w: get(u.input[1]), dims: dimsOf(inits[byName.get(u.input[1])!]) }));
    for (const c of over) {
      const s = slope[c];
      for (let k = 0; k < per; k++) pw[c * per + k] = -pw[c * per + k];
      if (pb) pb[c] = -pb[c];
      slope[c] = 1 / s;
      for (const { u, w, dims } of userW) {
        // Conv weight [O, C/group, kh, kw]: input channel c sits in group g at local index cl.
        const [o, cpg, kh, kw] = dims;
        const group = attrInt(u, 'group', 1);
        const g = Math.floor(c / cpg);
        const cl = c % cpg;
        const opg = o / group;
        for (let oc = g * opg; oc < (g + 1) * opg; oc++)
          for (let k = 0; k < kh * kw; k++) w[((oc * cpg + cl) * kh * kw) + k] *= -s;
      }
    }
    put(prod.input[1], pw);
    if (pb) put(prod.input[2], pb);
    put(p.input[1], slope);
    for (const { u, w } of userW) put(u.input[1], w);
    rewritten++;
    channels += over.length;
  }
  return { rewritten, channels };
}
