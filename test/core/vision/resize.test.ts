import { describe, expect, it } from 'vitest';
import { bindFrame, cropWithKernel, releaseFrame, resizeKernel, resizeWithKernel } from '../../../core/vision/resize.ts';
import { resizeWasmBase64 } from '../../../core/vision/resize-wasm.ts';
import { rectToAffine, resizeToTensor, resizeToTensorJs, sampleToTensor, sampleToTensorJs, type Affine, type TensorSpec } from '../../../core/vision/warp.ts';
import { compileKernel, KERNELS } from '../../../scripts/build-kernels.ts';

/** Deterministic noise image: every pixel and channel differs, so a swapped tap or plane shows. */
function noise(width: number, height: number, seed = 1): { width: number; height: number; data: Uint8Array } {
  let s = seed;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return { width, height, data };
}

const detector: TensorSpec = { width: 320, height: 240, mode: 'rgb', mean: 127, scale: 1 / 128 };

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('WebAssembly resize kernel', () => {
  it('committed bytes match resize.wat', async () => {
    const bytes = await compileKernel(KERNELS.resize);
    expect(Buffer.from(bytes).toString('base64')).toBe(resizeWasmBase64);
  });

  it('is available on this Node (SIMD)', () => {
    expect(resizeKernel()).not.toBeNull();
  });

  // Upscale, near 1:1, a shrink just under the box threshold, exact 2x and odd box footprints,
  // one-pixel-wide sources and a tall frame.
  const sizes: [number, number][] = [[250, 250], [320, 240], [450, 340], [640, 480], [1001, 677], [1, 1], [7, 300], [1280, 720]];
  for (const [w, h] of sizes) {
    it(`matches the JS reference from ${w}x${h}, RGB and BGR`, () => {
      const img = noise(w, h, w * 31 + h);
      for (const mode of ['rgb', 'bgr'] as const) {
        const spec = { ...detector, mode };
        const ref = resizeToTensorJs(img, spec);
        const got = new Float32Array(ref.length).fill(NaN);
        expect(resizeWithKernel(img, spec, got)).toBe(true);
        expect(maxDiff(ref, got)).toBeLessThan(1e-4);
      }
    });
  }

  it('reads only the image, not bytes past it in a larger buffer', () => {
    const img = noise(100, 80);
    const padded = new Uint8Array(img.data.length + 300).fill(255);
    padded.set(img.data);
    const spec = { ...detector, width: 64, height: 48 };
    const a = resizeToTensor(img, spec);
    const b = resizeToTensor({ ...img, data: padded }, spec);
    expect(maxDiff(a, b)).toBe(0);
  });

  it('leaves grey output to the JS path', () => {
    const img = noise(50, 40);
    const spec: TensorSpec = { width: 16, height: 16, mode: 'grey', mean: 0, scale: 1 };
    const out = new Float32Array(256);
    expect(resizeWithKernel(img, spec, out)).toBe(false);
    expect(maxDiff(resizeToTensor(img, spec), resizeToTensorJs(img, spec))).toBe(0);
  });

  it('keeps working after a smaller frame follows a larger one', () => {
    const spec = detector;
    const big = noise(1920, 1080, 3);
    const small = noise(200, 150, 4);
    const out = new Float32Array(3 * 320 * 240);
    resizeWithKernel(big, spec, out);
    resizeWithKernel(small, spec, out);
    expect(maxDiff(out, resizeToTensorJs(small, spec))).toBeLessThan(1e-4);
  });
});

describe('WebAssembly crops of the bound frame', () => {
  const specs: TensorSpec[] = [
    { width: 128, height: 128, mode: 'bgr', mean: 0, scale: 1 }, // liveness context
    { width: 64, height: 64, mode: 'grey', mean: 0, scale: 1 / 256 }, // landmark box
    { width: 40, height: 30, mode: 'rgb', mean: 127, scale: 1 / 128 },
  ];
  // Inside, across every border, a sliver past the right and bottom edges, wholly outside.
  const maps: Affine[] = [
    rectToAffine(40, 30, 120, 140, 128, 128),
    rectToAffine(-50, -40, 400, 350, 128, 128),
    rectToAffine(200, 180, 50.5, 50.5, 64, 64),
    rectToAffine(500, 500, 20, 20, 16, 16),
  ];

  it('match the JS sampler for every channel mode and rectangle', () => {
    const img = noise(250, 230, 9);
    bindFrame(img);
    try {
      for (const spec of specs) {
        for (const m of maps) {
          const ref = sampleToTensorJs(img, m, spec);
          const got = new Float32Array(ref.length).fill(NaN);
          expect(cropWithKernel(img, m, spec, got)).toBe(true);
          // In pixel units: the kernel weighs in f32, the JS in f64.
          expect(maxDiff(ref, got) / spec.scale).toBeLessThan(1e-3);
        }
      }
    } finally {
      releaseFrame(img);
    }
  });

  it('never read a frame that is not bound, was rewritten, or lost the memory to another', () => {
    const a = noise(60, 50, 1);
    const b = noise(60, 50, 2);
    const spec = specs[2];
    const m = rectToAffine(5, 5, 40, 40, 40, 30);
    const out = new Float32Array(3 * 40 * 30);
    expect(cropWithKernel(a, m, spec, out)).toBe(false); // not bound: JS runs
    bindFrame(a);
    expect(cropWithKernel(a, m, spec, out)).toBe(true);
    expect(cropWithKernel(a, [1, 0.1, 0, 0, 1, 0], spec, out)).toBe(false); // rotated or sheared: JS
    bindFrame(b); // another analyze() call took the memory
    expect(cropWithKernel(a, m, spec, out)).toBe(false);
    expect(maxDiff(sampleToTensor(a, m, spec), sampleToTensorJs(a, m, spec))).toBe(0);
    releaseFrame(a); // not a's binding any more: b stays bound
    expect(cropWithKernel(b, m, spec, out)).toBe(true);
    expect(cropWithKernel({ ...b, data: noise(60, 50, 3).data }, m, spec, out)).toBe(false);
    // A one-off resize of another image overwrites the frame: b is no longer bound.
    resizeToTensor(a, { ...detector, width: 32, height: 24 });
    expect(cropWithKernel(b, m, spec, out)).toBe(false);
    releaseFrame(b);
  });
});

