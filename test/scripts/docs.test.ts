import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configMarkdown, describeConfig, spliceMarked } from '../../core/config/describe.ts';
import { generatedSections } from '../../scripts/docs.ts';
import { repoRoot } from '../helpers.ts';

describe('configuration reference', () => {
  it('README matches the schema (run npm run docs after changing a config field)', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    for (const [name, gen] of Object.entries(generatedSections)) expect(spliceMarked(readme, name, gen())).toBe(readme);
  });

  it('lists nested keys with type, default and description', () => {
    const s = z.strictObject({
      a: z.number().default(3).describe('the a'),
      nest: z.strictObject({ mode: z.enum(['x', 'y']).default('y').describe('pick') }).prefault({}).describe('group'),
    });
    expect(describeConfig(s)).toEqual([
      { key: 'a', type: 'number', default: '3', description: 'the a' },
      { key: 'nest.mode', type: '`x` \\| `y`', default: '"y"', description: 'pick' },
    ]);
    expect(configMarkdown(s)).toContain('| `nest.mode` |');
  });
});
