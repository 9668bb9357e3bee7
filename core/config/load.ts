/**
 * Config loading shared by device, gateway and CLI. The zod schema is the single source of
 * truth: defaults, descriptions and types live there. This file only reads the file, resolves
 * secrets and reports every validation problem at once.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Secrets never need to sit in the config file: a string value `env:NAME` is replaced by the
 * environment variable NAME, and `file:/path` by the trimmed content of that file.
 */
export function resolveSecrets(value: unknown, env: NodeJS.ProcessEnv, problems: string[], path = ''): unknown {
  if (typeof value === 'string') {
    if (value.startsWith('env:')) {
      const name = value.slice(4);
      const v = env[name];
      if (v === undefined) problems.push(`${path || '(root)'}: environment variable ${name} is not set`);
      return v ?? value;
    }
    if (value.startsWith('file:')) {
      const file = value.slice(5);
      try {
        return readFileSync(file, 'utf8').trim();
      } catch (err) {
        problems.push(`${path || '(root)'}: cannot read secret file ${file}: ${(err as Error).message}`);
        return value;
      }
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveSecrets(v, env, problems, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveSecrets(v, env, problems, path ? `${path}.${k}` : k);
    return out;
  }
  return value;
}

/** Validate a plain object against a schema; throws ConfigError listing every problem. */
export function parseConfig<S extends z.ZodType>(schema: S, raw: unknown, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const problems: string[] = [];
  const resolved = resolveSecrets(raw ?? {}, env, problems);
  const result = schema.safeParse(resolved);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const where = issue.path.length ? issue.path.join('.') : '(root)';
      problems.push(`${where}: ${issue.message}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return (result as { data: z.output<S> }).data;
}

/** Read a JSON config file (missing file = all defaults) and validate it. */
export function loadConfigFile<S extends z.ZodType>(schema: S, file: string | undefined, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  let raw: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError([`cannot read config file ${file}: ${(err as Error).message}`]);
    }
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new ConfigError([`config file ${file} is not valid JSON: ${(err as Error).message}`]);
    }
  }
  return parseConfig(schema, raw, env);
}
