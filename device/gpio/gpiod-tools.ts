/**
 * libgpiod 1.x command-line tools as a GPIO back end (see gpiod.ts for why tools and not a
 * binding). Everything that must be true when a call returns (a line found, a level set, a level
 * read) runs synchronously with spawnSync; the long-lived holders and monitors are spawned.
 *
 * The 1.x command line (1.5 and 1.6: Debian bookworm, Raspberry Pi OS bookworm, Ubuntu 22.04 /
 * JetPack 6): `gpioset [-B bias] [-m exit|wait|time|signal] CHIP OFFSET=VALUE`,
 * `gpioget [-B bias] CHIP OFFSET`, `gpiomon [-B bias] [-b] [-F FMT] CHIP OFFSET` (%e: 1 rising,
 * 0 falling), `gpiofind NAME` -> "gpiochipN OFFSET". CHIP may be a chip name, number or label.
 * libgpiod 2 replaced this command line (gpioset -c CHIP, no gpiofind, other gpiomon output), and
 * 1.4 has no --bias: both are refused with a message instead of being misdriven.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Level } from './types.ts';

export interface LineRef {
  chip: string;
  offset: number;
}
export type Bias = 'pull-up' | 'pull-down' | 'disable' | 'as-is';

/** Format gpiomon prints for each edge: the edge (1 rising, 0 falling), the offset, the kernel timestamp. */
export const MONITOR_FORMAT = '%e %o %s %n';
const SYNC_TIMEOUT_MS = 5000;
const BUSY_RETRY_MS = 1000;

export class GpiodToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpiodToolError';
  }
}

export class GpiodTools {
  readonly version: { major: number; minor: number; text: string };

  constructor(private readonly bin = '') {
    this.version = this.readVersion();
  }

  /** The tools can set a bias (libgpiod 1.5+). */
  get hasBias(): boolean {
    return this.version.minor >= 5;
  }

  private tool(name: string): string {
    return this.bin ? join(this.bin, name) : name;
  }

  private run(name: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(this.tool(name), args, { encoding: 'utf8', timeout: SYNC_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.error) {
      const code = (r.error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new GpiodToolError(`${this.tool(name)} not found: install libgpiod's tools (Debian, Raspberry Pi OS, Ubuntu/JetPack: sudo apt install gpiod) or set gpio.gpiod.bin`);
      }
      throw new GpiodToolError(`${name} ${args.join(' ')} failed: ${r.error.message}`);
    }
    return { status: r.status, stdout: r.stdout, stderr: r.stderr.trim() };
  }

  private readVersion(): { major: number; minor: number; text: string } {
    const r = this.run('gpioset', ['--version']);
    const first = r.stdout.split('\n')[0]?.trim() ?? '';
    const m = /v(\d+)\.(\d+)/.exec(first);
    if (r.status !== 0 || !m) throw new GpiodToolError(`cannot tell the libgpiod version from "gpioset --version": ${first || r.stderr}`);
    const major = Number(m[1]);
    const minor = Number(m[2]);
    if (major !== 1) {
      throw new GpiodToolError(
        `libgpiod ${major}.x tools found (${first}): the gpiod driver speaks the libgpiod 1.x command line ` +
          '(1.5 or 1.6, as Raspberry Pi OS bookworm and JetPack 6 ship it); libgpiod 2 changed it (gpioset -c, no gpiofind). ' +
          'Install the 1.6 tools, or use gpio.type "onoff" where sysfs GPIO is available.',
      );
    }
    return { major, minor, text: first };
  }

  /** gpiofind: the chip and offset of a named line. */
  find(name: string): LineRef {
    const r = this.run('gpiofind', [name]);
    const m = /^(\S+)\s+(\d+)\s*$/.exec(r.stdout.trim());
    if (r.status !== 0 || !m) {
      throw new GpiodToolError(`GPIO line "${name}" not found by gpiofind${r.stderr ? ` (${r.stderr})` : ''}: list the line names with gpioinfo and map the pin in gpio.gpiod.lines`);
    }
    return { chip: m[1], offset: Number(m[2]) };
  }

  private biasArgs(bias: Bias): string[] {
    if (bias === 'as-is') return [];
    if (!this.hasBias) {
      throw new GpiodToolError(`${this.version.text} cannot set a bias (--bias came with libgpiod 1.5): set gpio.gpiod.bias to "as-is" and fit external pull resistors, or install libgpiod 1.6`);
    }
    return [`--bias=${bias}`];
  }

  /** gpioget: the line's level, read as an input with the given bias. */
  get(line: LineRef, bias: Bias): Level {
    const args = [...this.biasArgs(bias), line.chip, String(line.offset)];
    const r = this.retryBusy(() => this.run('gpioget', args));
    const v = r.stdout.trim();
    if (r.status !== 0 || (v !== '0' && v !== '1')) throw new GpiodToolError(`gpioget ${args.join(' ')} failed: ${r.stderr || v}`);
    return v === '1' ? 1 : 0;
  }

  /**
   * Set the level and release the line (gpioset --mode=exit). Retries while the line is busy: a
   * holder just told to exit releases its line a moment later.
   */
  setNow(line: LineRef, level: Level): void {
    const args = ['--mode=exit', line.chip, `${line.offset}=${level}`];
    const r = this.retryBusy(() => this.run('gpioset', args));
    if (r.status !== 0) throw new GpiodToolError(`gpioset ${args.join(' ')} failed: ${r.stderr}`);
  }

  /**
   * Hold the line at a level until stdin closes (gpioset --mode=wait returns on ENTER or EOF).
   * Closing stdin ends it only after the value was set; and when the daemon dies the pipe closes,
   * so no orphan keeps the line busy for the restarted daemon or the ExecStopPost safe-state run.
   */
  hold(line: LineRef, level: Level): ChildProcess {
    const child = spawn(this.tool('gpioset'), ['--mode=wait', line.chip, `${line.offset}=${level}`], { stdio: ['pipe', 'ignore', 'pipe'] });
    // Closing the pipe of a holder that already died must not raise an unhandled EPIPE.
    child.stdin?.on('error', () => {});
    return child;
  }

  /** gpiomon on both edges, one line per event on stdout (line-buffered: stdout is a pipe). */
  monitor(line: LineRef, bias: Bias): ChildProcess {
    const args = [...this.biasArgs(bias), '--line-buffered', `--format=${MONITOR_FORMAT}`, line.chip, String(line.offset)];
    return spawn(this.tool('gpiomon'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  private retryBusy<T extends { status: number | null; stderr: string }>(fn: () => T): T {
    const deadline = Date.now() + BUSY_RETRY_MS;
    for (;;) {
      const r = fn();
      if (r.status === 0 || !/busy/i.test(r.stderr) || Date.now() > deadline) return r;
      sleepSync(5);
    }
  }
}

/** Block the thread briefly (the busy retry runs where a write must be synchronous). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Parse one gpiomon line printed with MONITOR_FORMAT; null when it is not an event line. */
export function parseMonitorLine(text: string): Level | null {
  const m = /^([01]) \d+ \d+ \d+$/.exec(text.trim());
  return m ? (m[1] === '1' ? 1 : 0) : null;
}
