/** The software version reported in status messages: package.json's version, read once. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let cached: string | undefined;
export function softwareVersion(): string {
  if (cached === undefined) {
    try {
      cached = String(JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')).version);
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
