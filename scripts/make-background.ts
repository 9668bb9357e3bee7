/**
 * `npx tsx scripts/make-background.ts [manifest.tsv] [--out device/gallery/background.bin]
 *   [--out-second device/gallery/background-second.bin] [--embeddings-cache /tmp/file.json]`
 *
 * Regenerates the anonymous background set the device derives its 1:N threshold from: one
 * embedding per identity of the ../shared/faces manifest (the first image with a face), int8 per
 * row, no names, no images, shuffled so file order says nothing about who. When the second
 * embedding (MobileFaceNet) is installed, its embeddings of the same faces are written beside,
 * index for index (same shuffle), for the gated fused threshold. Run again whenever either
 * embedding model changes (an embedding of another model is meaningless). Provenance:
 * device/gallery/BACKGROUND.md. --embeddings-cache: eval --identify --second's main+second cache
 * (<cache>.second.json is read, as the eval names it).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { loadConfigFile } from '../core/config/load.ts';
import { visionConfigSchema } from '../core/vision/config.ts';
import { VisionEngine } from '../core/vision/engine.ts';
import { defaultBackgroundPath, defaultBackgroundSecondPath, encodeBackground } from '../device/gallery/background.ts';
import { openSecondEmbedder } from '../device/gallery/second-model.ts';
import { embedWithSecond } from './eval/embed-second.ts';
import { sharedDir } from './eval/dataset.ts';
import { compareImagePaths, readManifest } from './eval/identify.ts';
import { embedImages } from './eval/pairs.ts';
import { xorshift } from './eval/rng.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' }, 'out-second': { type: 'string' }, config: { type: 'string' }, 'embeddings-cache': { type: 'string' } } });
const manifest = positionals[0] ?? join(sharedDir(), 'faces/manifest.tsv');
const out = values.out ?? defaultBackgroundPath;
const outSecond = values['out-second'] ?? defaultBackgroundSecondPath;

async function main(): Promise<void> {
  const engine = await VisionEngine.create(loadConfigFile(visionConfigSchema, values.config));
  const second = await openSecondEmbedder({ secondEmbedding: 'auto' }, engine.config);
  try {
    const byPerson = new Map<string, string[]>();
    for (const r of readManifest(manifest)) byPerson.set(r.identity, [...(byPerson.get(r.identity) ?? []), r.path]);
    const firsts = [...byPerson.values()].map((paths) => [...paths].sort(compareImagePaths));
    // The first image of each person; a later one only when no face is found in it.
    const paths = firsts.flatMap((p) => p.slice(0, 2));
    const cache = values['embeddings-cache']?.replace(/(\.json)?$/, '.second.json');
    const emb = second ? await embedWithSecond(engine, second, paths, cache) : await embedImages(engine, paths);
    const chosen = firsts
      .map((p) => p.map((x) => emb.get(x)).find((e) => e?.embedding))
      .filter((e) => e !== undefined)
      .map((e) => ({ main: e.embedding!, second: e.second }));
    const r = xorshift(20250101);
    for (let i = chosen.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [chosen[i], chosen[j]] = [chosen[j], chosen[i]];
    }
    writeFileSync(out, encodeBackground(chosen.map((c) => c.main)));
    console.log(`${out}: ${chosen.length} embeddings of ${byPerson.size} identities (${engine.precision.feature} fr_feature)`);
    if (second) {
      if (chosen.some((c) => !c.second)) throw new Error('a chosen face has no second embedding');
      writeFileSync(outSecond, encodeBackground(chosen.map((c) => c.second!)));
      console.log(`${outSecond}: the same ${chosen.length} faces, ${second.precision} MobileFaceNet`);
    } else console.log(`second embedding not installed: ${outSecond} not written`);
  } finally {
    await second?.release();
    await engine.close();
  }
}

main().catch((err) => {
  console.error(`make-background: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
