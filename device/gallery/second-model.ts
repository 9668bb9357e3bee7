/**
 * Opens the second embedding (core/vision/second-embedder.ts) for the device as
 * gallery.secondEmbedding asks: 'auto' when its model file is in vision.modelDir (a missing or
 * unusable model is logged and the door runs on the main model alone), 'on' always (a failure
 * stops the start), 'off' never. Same precision as the main embedder.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../core/log/logger.ts';
import { MOBILEFACENET } from '../../core/models/manifest.ts';
import type { VisionConfig } from '../../core/vision/config.ts';
import { SecondEmbedder } from '../../core/vision/second-embedder.ts';
import type { GalleryConfig } from './config.ts';

const log = createLogger('gallery');

/** Whether the second model (fp32 or int8) is in `modelDir`. */
export function secondModelPresent(modelDir: string): boolean {
  return ['onnx', 'int8.onnx'].some((ext) => existsSync(join(modelDir, `${MOBILEFACENET.name}.${ext}`)));
}

export async function openSecondEmbedder(gallery: Pick<GalleryConfig, 'secondEmbedding'>, vision: VisionConfig): Promise<SecondEmbedder | undefined> {
  const mode = gallery.secondEmbedding;
  if (mode === 'off') return undefined;
  if (mode === 'auto' && !secondModelPresent(vision.modelDir)) {
    log.info('second embedding not installed; matching on the main model alone', { modelDir: vision.modelDir });
    return undefined;
  }
  const opts = { modelDir: vision.modelDir, executionProviders: vision.executionProviders, intraOpThreads: vision.intraOpThreads, precision: vision.precision.feature };
  try {
    const s = await SecondEmbedder.create(opts);
    log.info('second embedding loaded; fused near the match threshold', { precision: s.precision });
    return s;
  } catch (err) {
    if (mode === 'on') throw err;
    log.warn('second embedding unusable; matching on the main model alone', { error: (err as Error).message });
    return undefined;
  }
}
