/**
 * A calibration run, recorded: everything the int8 bytes depend on that only running the float
 * model over images can tell (like a TensorRT calibration cache, plus what equalization and bias
 * correction measured). Stored per model in scripts/quantize/recipes.json, it lets `npm install`
 * rebuild the very same int8 model from the fp32 file alone, on a machine without the images;
 * the recipe's sha256 proves it did.
 *
 * Numbers must come back bit for bit: ranges are JSON numbers (JavaScript prints the shortest
 * text that parses back to the same double), per-channel vectors are float64 little-endian
 * bytes in base64 (exact and about a third of the text).
 */
import { z } from 'zod';
import type { CalibrationSource, Measurement, Range } from './calibrate.ts';

export interface CalibrationRecord {
  /** Calibration inputs the figures came from (written into the model's metadata). */
  samples: number;
  /** Images those inputs were captured from (for the sidecar). */
  images?: number;
  /** Ranks of the tensors the opset upgrade asked about (Softmax axis); usually none. */
  ranks: Record<string, number>;
  /** Per-channel figure that decided each channel equalization, by tensor (float64, base64). */
  equalization: Record<string, string>;
  /**
   * Range [min, max] of every activation tensor that gets a QuantizeLinear, after the recipe's
   * calibration method. The uint8 scale and zero point follow from it (activationParams in qdq.ts).
   */
  ranges: Record<string, [number, number]>;
  /** Per-channel mean of the input of each bias-corrected Conv / Gemm (float64, base64). */
  channelMeans: Record<string, string>;
}

export const calibrationRecordSchema = z.object({
  samples: z.number().int().positive().describe('calibration inputs the figures came from'),
  images: z.number().int().nonnegative().optional().describe('images those inputs were captured from'),
  ranks: z.record(z.string(), z.number().int()).default({}).describe('tensor ranks the opset upgrade needed'),
  equalization: z.record(z.string(), z.string()).default({}).describe('per-channel equalization figures (float64 LE, base64)'),
  ranges: z.record(z.string(), z.tuple([z.number(), z.number()])).describe('activation ranges [min, max]'),
  channelMeans: z.record(z.string(), z.string()).default({}).describe('per-channel means for bias correction (float64 LE, base64)'),
});

/** Float64Array -> base64 of its little-endian bytes. */
export function encodeF64(values: ArrayLike<number>): string {
  const buf = Buffer.alloc(values.length * 8);
  for (let i = 0; i < values.length; i++) buf.writeDoubleLE(values[i], i * 8);
  return buf.toString('base64');
}

export function decodeF64(text: string): Float64Array {
  const buf = Buffer.from(text, 'base64');
  if (buf.length % 8) throw new Error(`recorded calibration: ${buf.length} bytes is not a float64 vector`);
  const out = new Float64Array(buf.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = buf.readDoubleLE(i * 8);
  return out;
}

/**
 * A CalibrationSource that answers from a record instead of running the model. The calibration
 * method chosen when it was recorded is baked into its ranges; a tensor it has no range for is
 * reported as not measured, and the quantizer stops (the record belongs to another graph).
 */
export function recordedSource(record: CalibrationRecord): CalibrationSource {
  const pick = <T>(from: Record<string, T>, tensors: readonly string[], map: (v: T) => Float64Array | number) => {
    const out = new Map<string, ReturnType<typeof map>>();
    for (const t of tensors) if (Object.hasOwn(from, t)) out.set(t, map(from[t]));
    return out;
  };
  return {
    samples: record.samples,
    ranks: async (tensors) => pick(record.ranks, tensors, (v) => v) as Map<string, number>,
    channelFigures: async (_model, tensors) => pick(record.equalization, tensors, decodeF64) as Map<string, Float64Array>,
    async measure(): Promise<Measurement> {
      return {
        range: (t): Range | undefined => {
          if (!Object.hasOwn(record.ranges, t)) return undefined;
          const [min, max] = record.ranges[t];
          return { min, max };
        },
        mean: (t) => (Object.hasOwn(record.channelMeans, t) ? decodeF64(record.channelMeans[t]) : undefined),
      };
    },
  };
}
