import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createModelSession } from '../../../core/vision/session.ts';
import { createWorkerModelSession } from '../../../core/vision/worker-session.ts';
import { hasModels, repoRoot, skipReason } from '../../helpers.ts';

describe.skipIf(skipReason(hasModels, 'models/ missing'))('worker model session', () => {
  const model = () => readFileSync(join(repoRoot, 'models/fr_liveness.onnx'));
  const opts = { executionProviders: ['cpu' as const], intraOpThreads: 1 };

  it('gives the same outputs as a session on the main thread, concurrently', async () => {
    const main = await createModelSession(model(), 'live', opts);
    const worker = await createWorkerModelSession(model(), 'live', { ...opts, threads: 1 });
    try {
      const inputs = [0, 1, 2].map((k) => Float32Array.from({ length: 3 * 128 * 128 }, (_, i) => ((i * (k + 3)) % 251) as number));
      const dims = [1, 3, 128, 128];
      const fromWorker = await Promise.all(inputs.map((x) => worker.run(x, dims)));
      for (let k = 0; k < inputs.length; k++) {
        const ref = (await main.run(inputs[k], dims)).output.data;
        expect(Array.from(fromWorker[k].output.data)).toEqual(Array.from(ref));
      }
      // The caller's buffer is not detached by the transfer.
      expect(inputs[0].length).toBe(3 * 128 * 128);
    } finally {
      await main.release();
      await worker.release();
    }
  });

  it('rejects a broken model with a clear error', async () => {
    await expect(createWorkerModelSession(new Uint8Array([1, 2, 3, 4]), 'broken', { ...opts, threads: 1 })).rejects.toThrow(/broken: cannot create an inference session/);
  });
});
