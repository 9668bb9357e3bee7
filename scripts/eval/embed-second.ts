/**
 * Main and second embeddings of the primary face of each image, the second one computed on the
 * aligned crop the engine gave the main embedder (analyze keepAligned), as the door does. Cached
 * in one JSON file (outside the repo) when asked.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { VisionEngine } from '../../core/vision/engine.ts';
import type { EmbeddedImage } from './pairs.ts';
import { progressBar } from './progress.ts';

export async function embedWithSecond(engine: VisionEngine, second: { embed(aligned: Float32Array): Promise<Float32Array> }, paths: string[], cacheFile?: string): Promise<Map<string, EmbeddedImage>> {
  const f = (v: unknown) => (Array.isArray(v) ? Float32Array.from(v as number[]) : undefined);
  if (cacheFile && existsSync(cacheFile)) {
    const raw = JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, Record<string, unknown>>;
    if (paths.every((p) => p in raw)) return new Map(paths.map((p) => [p, { error: raw[p].error as string | undefined, embedding: f(raw[p].embedding), second: f(raw[p].second) }]));
  }
  const out = new Map<string, EmbeddedImage>();
  const bar = progressBar(paths.length, 'embedding (main + second)');
  for (const p of paths) {
    try {
      const a = await engine.analyzeImage(readFileSync(p), { embed: 'primary', liveness: false, keepAligned: true });
      const face = a.primary >= 0 ? a.faces[a.primary] : undefined;
      out.set(p, face?.embedding && face.aligned ? { embedding: face.embedding, second: await second.embed(face.aligned) } : { error: 'no_face' });
    } catch (err) {
      out.set(p, { error: (err as Error).message });
    }
    bar.tick();
  }
  bar.done();
  if (cacheFile) {
    const arr = (v?: Float32Array) => (v ? Array.from(v, (x) => Math.round(x * 1e6) / 1e6) : undefined);
    writeFileSync(cacheFile, JSON.stringify(Object.fromEntries([...out].map(([p, v]) => [p, { error: v.error, embedding: arr(v.embedding), second: arr(v.second) }]))));
  }
  return out;
}
