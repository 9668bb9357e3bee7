/**
 * Configuration reference generated from the schema itself, so the README table can never drift
 * from what the loader accepts (a test compares them).
 */
import { z } from 'zod';

export interface ConfigRow {
  key: string;
  type: string;
  default: string;
  description: string;
}

type AnyDef = { type: string; [k: string]: unknown };
const defOf = (s: z.ZodType): AnyDef => (s as unknown as { _zod: { def: AnyDef } })._zod.def;
const describe = (s: z.ZodType): string | undefined => s.description ?? z.globalRegistry.get(s)?.description;

function typeName(s: z.ZodType): string {
  const d = defOf(s);
  switch (d.type) {
    case 'default':
    case 'prefault':
    case 'optional':
    case 'nullable':
      return typeName(d.innerType as z.ZodType) + (d.type === 'nullable' ? ' | null' : '');
    case 'pipe':
      return typeName(d.in as z.ZodType);
    case 'enum':
      return Object.values(d.entries as Record<string, string>).map((v) => `\`${v}\``).join(' \\| ');
    case 'array': {
      const el = typeName(d.element as z.ZodType);
      return el.includes('|') ? `(${el})[]` : `${el}[]`;
    }
    case 'union':
      return (d.options as z.ZodType[]).map(typeName).join(' \\| ');
    case 'literal':
      return (d.values as unknown[]).map((v) => JSON.stringify(v)).join(' \\| ');
    default:
      return d.type;
  }
}

/** Unwrap default/prefault/optional layers, remembering the default and the outermost description. */
function unwrap(s: z.ZodType): { inner: z.ZodType; dflt?: unknown; description?: string } {
  let cur = s;
  let dflt: unknown;
  let description = describe(s);
  for (;;) {
    const d = defOf(cur);
    if (d.type === 'default' || d.type === 'prefault') {
      if (dflt === undefined) dflt = typeof d.defaultValue === 'function' ? (d.defaultValue as () => unknown)() : d.defaultValue;
      cur = d.innerType as z.ZodType;
    } else if (d.type === 'optional' || d.type === 'pipe') {
      cur = (d.type === 'pipe' ? d.in : d.innerType) as z.ZodType;
    } else break;
    description ??= describe(cur);
  }
  return { inner: cur, dflt, description };
}

export function describeConfig(schema: z.ZodType, prefix = ''): ConfigRow[] {
  const rows: ConfigRow[] = [];
  const { inner } = unwrap(schema);
  const d = defOf(inner);
  if (d.type !== 'object') return rows;
  for (const [key, child] of Object.entries(d.shape as Record<string, z.ZodType>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const u = unwrap(child);
    if (defOf(u.inner).type === 'object') {
      rows.push(...describeConfig(u.inner, path));
      continue;
    }
    rows.push({ key: path, type: typeName(u.inner), default: u.dflt === undefined ? '' : JSON.stringify(u.dflt), description: u.description ?? '' });
  }
  return rows;
}

export function configMarkdown(schema: z.ZodType): string {
  const esc = (t: string) => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = ['| key | type | default | description |', '|---|---|---|---|'];
  for (const r of describeConfig(schema)) {
    lines.push(`| \`${r.key}\` | ${r.type} | ${r.default ? `\`${esc(r.default)}\`` : ''} | ${esc(r.description)} |`);
  }
  return lines.join('\n');
}

/** Replace the text between `<!-- config:NAME:start -->` and `<!-- config:NAME:end -->`. */
export function spliceMarked(doc: string, name: string, body: string): string {
  const start = `<!-- config:${name}:start -->`;
  const end = `<!-- config:${name}:end -->`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`markers for ${name} not found`);
  return `${doc.slice(0, i + start.length)}\n${body}\n${doc.slice(j)}`;
}
