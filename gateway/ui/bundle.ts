/**
 * The admin UI bundle: the TSX sources under gateway/ui/src built with esbuild (already installed
 * with tsx) into one ES module and one stylesheet, in memory, once per process. Nothing comes
 * from a CDN; the page loads only /ui/app.js and /ui/app.css from this gateway.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

export interface UiBundle {
  js: string;
  css: string;
  html: string;
}

const src = join(import.meta.dirname, 'src');
let cached: Promise<UiBundle> | undefined;

export function uiBundle(): Promise<UiBundle> {
  return (cached ??= (async () => {
    const out = await build({
      entryPoints: [join(src, 'main.tsx')],
      bundle: true,
      format: 'esm',
      target: 'es2020',
      minify: true,
      sourcemap: false,
      write: false,
      jsx: 'automatic',
      jsxImportSource: 'preact',
      logLevel: 'silent',
    });
    return { js: out.outputFiles[0].text, css: readFileSync(join(src, 'styles.css'), 'utf8'), html: readFileSync(join(src, 'index.html'), 'utf8') };
  })());
}
