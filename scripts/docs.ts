/** `npm run docs`: regenerate the configuration reference tables in README.md from the schemas. */
import { readFileSync, writeFileSync } from 'node:fs';
import { configMarkdown, spliceMarked } from '../core/config/describe.ts';
import { deviceConfigSchema } from '../device/config.ts';

export const generatedSections = { device: () => configMarkdown(deviceConfigSchema) };

if (process.argv[1]?.endsWith('docs.ts')) {
  let readme = readFileSync('README.md', 'utf8');
  for (const [name, gen] of Object.entries(generatedSections)) readme = spliceMarked(readme, name, gen());
  writeFileSync('README.md', readme);
  console.log('README.md configuration reference updated');
}
