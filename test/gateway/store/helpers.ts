/** A gateway store in a fresh temp folder per test, closed and removed afterwards. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { GatewayStoreConfigInput } from '../../../gateway/store/config.ts';
import { openGatewayStore, type SqliteGatewayStore } from '../../../gateway/store/open.ts';

export function storeSuite() {
  const dirs: string[] = [];
  const stores: SqliteGatewayStore[] = [];
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return {
    dir(): string {
      const d = mkdtempSync(join(tmpdir(), 'portier-gw-store-'));
      dirs.push(d);
      return d;
    },
    open(dir: string, cfg: GatewayStoreConfigInput = {}, now?: () => number): SqliteGatewayStore {
      const s = openGatewayStore({ dir, ...cfg }, { now });
      stores.push(s);
      return s;
    },
  };
}

/** A unit vector along axis i (plus a little of axis j), so cosine similarities are known. */
export function vec(i: number, dim = 512, j?: number, w = 0): Float32Array {
  const v = new Float32Array(dim);
  v[i] = 1;
  if (j !== undefined) v[j] = w;
  let n = 0;
  for (const x of v) n += x * x;
  return v.map((x) => x / Math.sqrt(n));
}
