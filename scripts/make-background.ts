/**
 * `npx tsx scripts/make-background.ts [manifest.tsv] [--out device/gallery/background.bin]`
 *
 * Regenerates the anonymous background set the device derives its 1:N threshold from: one
 * embedding per identity of the ../shared/faces manifest (the first image with a face), int8 per
 * row, no names, no images, shuffled so file order says nothing about who. Run again whenever the
 * embedding model changes (an embedding of another model is meaningless). Provenance:
 * device/gallery/BACKGROUND.md.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { loadConfigFile } from '../core/config/load.ts';
import { visionConfigSchema } from '../core/vision/config.ts';
import { VisionEngine } from '../core/vision/engine.ts';
import { defaultBackgroundPath, encodeBackground } from '../device/gallery/background.ts';
import { sharedDir } from './eval/dataset.ts';
import { compareImagePaths, readManifest } from './eval/identify.ts';
import { embedImages } from './eval/pairs.ts';
import { xorshift } from './eval/rng.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' }, config: { type: 'string' } } });
const manifest = positionals[0] ?? join(sharedDir(), 'faces/manifest.tsv');
const out = values.out ?? defaultBackgroundPath;

async function main(): Promise<void> {
  const engine = await VisionEngine.create(loadConfigFile(visionConfigSchema, values.config));
  try {
    const byPerson = new Map<string, string[]>();
    for (const r of readManifest(manifest)) byPerson.set(r.identity, [...(byPerson.get(r.identity) ?? []), r.path]);
    const firsts = [...byPerson.values()].map((paths) => [...paths].sort(compareImagePaths));
    // The first image of each person; a later one only when no face is found in it.
    const emb = await embedImages(engine, firsts.flatMap((p) => p.slice(0, 2)));
    const chosen = firsts.map((p) => p.map((x) => emb.get(x)?.embedding).find(Boolean)).filter((e): e is Float32Array => !!e);
    const r = xorshift(20250101);
    for (let i = chosen.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [chosen[i], chosen[j]] = [chosen[j], chosen[i]];
    }
    writeFileSync(out, encodeBackground(chosen));
    console.log(`${out}: ${chosen.length} embeddings of ${byPerson.size} identities (${engine.precision.feature} fr_feature)`);
  } finally {
    await engine.close();
  }
}

main().catch((err) => {
  console.error(`make-background: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
