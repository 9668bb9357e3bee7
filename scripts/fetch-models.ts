/**
 * `npm run fetch-models [-- --from-dir DIR | --tarball FILE] [--model-dir DIR]`
 * Runs on `npm install` (postinstall). Env equivalents: PORTIER_MODELS_DIR_SOURCE,
 * PORTIER_MODELS_TARBALL, PORTIER_MODEL_DIR; PORTIER_SKIP_MODELS=1 skips the step.
 */
import { parseArgs } from 'node:util';
import { fetchModels } from '../core/models/fetch.ts';

const { values } = parseArgs({
  options: {
    'from-dir': { type: 'string' },
    tarball: { type: 'string' },
    'model-dir': { type: 'string' },
  },
});

if (process.env.PORTIER_SKIP_MODELS === '1') {
  console.log('portier: PORTIER_SKIP_MODELS=1, not fetching models');
  process.exit(0);
}
try {
  const res = fetchModels({
    modelDir: values['model-dir'] ?? process.env.PORTIER_MODEL_DIR ?? 'models',
    fromDir: values['from-dir'] ?? process.env.PORTIER_MODELS_DIR_SOURCE,
    tarball: values.tarball ?? process.env.PORTIER_MODELS_TARBALL,
    log: (m) => console.log(`portier: ${m}`),
  });
  console.log(`portier: models ready (${res.written.length} written from ${res.source}, ${res.kept.length} already valid)`);
} catch (err) {
  console.error(`portier: ${(err as Error).message}`);
  process.exit(1);
}
