/**
 * A fake character-device layer for the gpiod driver: gpioset, gpioget, gpiomon and gpiofind as
 * small shell scripts in a temp folder. They record their argv, keep each line's level in files,
 * and hold a line the way the kernel does: an exclusive flock on the line that lives exactly as
 * long as the process holding it (a second request meanwhile fails with "Device or resource busy").
 * gpiomon prints whatever the test appends to the line's events file, formatted by the test with
 * the --format gpiomon was given.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Level } from '../../../device/gpio/types.ts';

const prelude = (state: string) => `#!/bin/sh
S='${state}'
{ printf '%s' "$(basename "$0")"; for a in "$@"; do printf '\\t%s' "$a"; done; printf '\\n'; } >> "$S/calls.log"
`;
const options = `while [ $# -gt 0 ]; do case "$1" in --mode=*) mode="\${1#--mode=}";; -*) ;; *) break;; esac; shift; done
`;
const lock = (tool: string, what: string) => `exec 9>>"$L.lock"
flock -n 9 || { echo "${tool}: error ${what}: Device or resource busy" >&2; exit 1; }
`;

const scripts = {
  gpioset: `if [ "$1" = --version ]; then echo "gpioset (libgpiod) v$(cat "$S/version")"; echo "Copyright (C) 2017-2018 Bartosz Golaszewski"; exit 0; fi
mode=exit
${options}L="$S/line-$1-\${2%%=*}"; val="\${2#*=}"
${lock('gpioset', 'setting the GPIO line values')}echo "$val" > "$L.value"
echo "$val" >> "$L.history"
if [ "$mode" = wait ]; then echo $$ > "$L.holder"; read _ || true; fi
exit 0
`,
  gpioget: `${options}L="$S/line-$1-$2"
${lock('gpioget', 'reading GPIO values')}cat "$L.input" 2>/dev/null || echo 0
`,
  gpiomon: `${options}L="$S/line-$1-$2"
${lock('gpiomon', 'requesting GPIO lines')}: > "$L.events"
echo $$ > "$L.mon"
exec tail -s 0.02 -n +1 -f "$L.events"
`,
  gpiofind: `r=$(grep -m1 "^$1 " "$S/names") || exit 1
echo "\${r#* }"
`,
};

export interface FakeGpiod {
  bin: string;
  /** argv of every call, optionally of one tool only. */
  calls(tool?: string): string[][];
  value(chip: string, offset: number): Level | undefined;
  history(chip: string, offset: number): Level[];
  holderPid(chip: string, offset: number): number | undefined;
  monitorPid(chip: string, offset: number): number | undefined;
  /** Whether any process holds the line. */
  busy(chip: string, offset: number): boolean;
  /** The raw level gpioget reads. */
  setInput(chip: string, offset: number, level: Level): void;
  /** Edges as the running gpiomon prints them (it must have started). */
  edges(chip: string, offset: number, levels: Level[]): void;
  cleanup(): void;
}

export function fakeGpiod(opts: { version?: string; names?: Record<string, [string, number]> } = {}): FakeGpiod {
  const dir = mkdtempSync(join(tmpdir(), 'portier-gpiod-'));
  const bin = join(dir, 'bin');
  const state = join(dir, 'state');
  mkdirSync(bin);
  mkdirSync(state);
  writeFileSync(join(state, 'version'), opts.version ?? '1.6.3');
  const names = opts.names ?? { GPIO17: ['gpiochip0', 17], GPIO27: ['gpiochip0', 27], GPIO22: ['gpiochip0', 22] };
  writeFileSync(join(state, 'names'), Object.entries(names).map(([n, [c, o]]) => `${n} ${c} ${o}\n`).join(''));
  writeFileSync(join(state, 'calls.log'), '');
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(bin, name), prelude(state) + body);
    chmodSync(join(bin, name), 0o755);
  }
  const file = (chip: string, offset: number, ext: string) => join(state, `line-${chip}-${offset}.${ext}`);
  const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : '');
  const pid = (p: string) => (read(p).trim() ? Number(read(p).trim()) : undefined);
  const calls = (tool?: string) =>
    read(join(state, 'calls.log'))
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t'))
      .filter((c) => !tool || c[0] === tool)
      .map((c) => c.slice(tool ? 1 : 0));
  return {
    bin,
    calls,
    value: (chip, offset) => {
      const v = read(file(chip, offset, 'value')).trim();
      return v ? (Number(v) as Level) : undefined;
    },
    history: (chip, offset) => read(file(chip, offset, 'history')).split('\n').filter(Boolean).map((v) => Number(v) as Level),
    holderPid: (chip, offset) => pid(file(chip, offset, 'holder')),
    monitorPid: (chip, offset) => pid(file(chip, offset, 'mon')),
    busy: (chip, offset) => spawnSync('flock', ['-n', file(chip, offset, 'lock'), 'true']).status !== 0,
    setInput: (chip, offset, level) => writeFileSync(file(chip, offset, 'input'), `${level}\n`),
    edges: (chip, offset, levels) => {
      const mon = calls('gpiomon').filter((a) => a.at(-2) === chip && a.at(-1) === String(offset)).at(-1);
      const format = mon?.find((a) => a.startsWith('--format='))?.slice('--format='.length);
      if (!format) throw new Error(`gpiomon was not started with --format on ${chip} ${offset}`);
      const lines = levels.map((e, i) => format.replace(/%e/g, String(e)).replace(/%o/g, String(offset)).replace(/%s/g, '1000').replace(/%n/g, String(i * 1000)) + '\n');
      appendFileSync(file(chip, offset, 'events'), lines.join(''));
      writeFileSync(file(chip, offset, 'input'), `${levels.at(-1)}\n`);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
