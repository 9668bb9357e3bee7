/**
 * Vision commands of `npm run portier -- <command>` (dispatched by scripts/cli.ts):
 *   detect <img>            faces as JSON (box, landmarks, pose, quality, liveness, eyes)
 *   compare <a> <b>         cosine similarity and the decision at the configured threshold
 * Options: --config <vision.json>, --embedding (detect: include the 512 numbers).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.ts';
import { visionConfigSchema } from '../vision/config.ts';
import { cosine } from '../vision/embedder.ts';
import { VisionEngine, type FaceResult } from '../vision/engine.ts';

const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;

export function faceToJson(f: FaceResult, withEmbedding = false): Record<string, unknown> {
  return {
    box: f.box.map((v) => round(v, 1)),
    score: round(f.score, 4),
    landmarks: f.landmarks.map(([x, y]) => [round(x, 1), round(y, 1)]),
    pose: { yaw: round(f.pose.yaw, 1), pitch: round(f.pose.pitch, 1), roll: round(f.pose.roll, 1) },
    quality: { ok: f.quality.ok, reasons: f.quality.reasons, size: round(f.quality.size, 1), sharpness: round(f.quality.sharpness, 1), brightness: round(f.quality.brightness, 1) },
    eyes_open: f.eyesOpen?.map((v) => round(v, 3)),
    liveness: f.liveness && { score: round(f.liveness.score, 4), live: f.liveness.live },
    ...(withEmbedding && f.embedding ? { embedding: Array.from(f.embedding, (v) => round(v, 6)) } : {}),
  };
}

export async function runVisionCli(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string' }, embedding: { type: 'boolean', default: false } },
  });
  const [cmd, ...args] = positionals;
  if (!cmd || !['detect', 'compare'].includes(cmd) || (cmd === 'detect' && args.length !== 1) || (cmd === 'compare' && args.length !== 2)) {
    console.error('usage: portier detect <image> [--embedding] | portier compare <imageA> <imageB>  [--config vision.json]');
    return 2;
  }
  const config = loadConfigFile(visionConfigSchema, values.config);
  const engine = await VisionEngine.create(config);
  try {
    if (cmd === 'detect') {
      const a = await engine.analyzeImage(readFileSync(args[0]), { eyes: true });
      console.log(JSON.stringify({ image: args[0], width: a.width, height: a.height, primary: a.primary, faces: a.faces.map((f) => faceToJson(f, values.embedding)) }, null, 2));
      return 0;
    }
    const embs = [];
    for (const p of args) {
      const a = await engine.analyzeImage(readFileSync(p), { embed: 'primary', liveness: false });
      if (a.primary < 0) {
        console.error(`compare: no face found in ${p}`);
        return 1;
      }
      embs.push(a.faces[a.primary].embedding!);
    }
    const similarity = cosine(embs[0], embs[1]);
    const threshold = config.match.threshold;
    console.log(JSON.stringify({ a: args[0], b: args[1], similarity: round(similarity, 4), threshold, same_person: similarity >= threshold }));
    return 0;
  } finally {
    await engine.close();
  }
}
