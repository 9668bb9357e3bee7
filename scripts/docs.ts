/**
 * `npm run docs`: regenerate the README's generated sections from their single sources: the
 * device and gateway configuration schemas, the HTTP route table and the MQTT contract.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { configMarkdown, spliceMarked } from '../core/config/describe.ts';
import { topicMarkdown } from '../core/sync/reference.ts';
import { deviceConfigSchema } from '../device/config.ts';
import { authRouteDocs } from '../gateway/auth/docs.ts';
import { gatewayConfigSchema } from '../gateway/config.ts';
import { apiReferenceMarkdown } from '../gateway/http/routes.ts';

export const generatedSections = {
  device: () => configMarkdown(deviceConfigSchema),
  gateway: () => configMarkdown(gatewayConfigSchema),
  api: () => apiReferenceMarkdown(authRouteDocs),
  mqtt: () => topicMarkdown(),
};

if (process.argv[1]?.endsWith('docs.ts')) {
  let readme = readFileSync('README.md', 'utf8');
  for (const [name, gen] of Object.entries(generatedSections)) readme = spliceMarked(readme, name, gen());
  writeFileSync('README.md', readme);
  console.log('README.md generated sections updated (configuration, API, MQTT topics)');
}
