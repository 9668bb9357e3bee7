/**
 * GPIO through the Linux character device (/dev/gpiochipN), the interface current kernels keep
 * developing; sysfs GPIO is deprecated, numbers its lines from a base that moves between kernels
 * (512 on a Pi 4 with 6.6, 571 on a Pi 5) and cannot set pull-ups.
 *
 * Driven through libgpiod's own command-line tools (Debian's `gpiod` package, 1.6 on Raspberry Pi
 * OS bookworm and JetPack 6) as child processes, not a native binding: nothing to compile on the
 * device (no node-gyp, no node headers download, no libgpiod-dev), the tools are the reference
 * users of the uAPI and ship with the distribution, and a fake set of tools makes the driver
 * testable anywhere. The cost is a process per held output and per watched input. libgpiod 2's
 * different command line is detected and refused with a message (gpiod-tools.ts).
 *
 * - Lines: `gpio.gpiod.lines` maps a door pin number to a line name (resolved with gpiofind) or
 *   a chip (label, name or number) and offset; an unmapped pin N is the line named "GPION".
 * - Outputs: set synchronously (gpioset --mode=exit: the request sets direction and value at
 *   once, no glitch), then held by `gpioset --mode=wait` for as long as the pin is open. A write
 *   ends the holder, sets the new level synchronously (write() is synchronous: the crash guard
 *   calls it from an 'exit' handler) and starts a new holder. Between the two the line is briefly
 *   unrequested: Raspberry Pi kernels keep a released output's level (persist_gpio_outputs);
 *   elsewhere it may float for a few milliseconds, far below a relay's response time.
 * - Inputs: read once with gpioget, then `gpiomon` with the configured bias streams edges,
 *   debounced in software like the simulated driver; each edge carries the new level, so a change
 *   in the moment between the two requests is corrected by the next edge. A holder or monitor
 *   that dies unexpectedly is restarted after a second.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createLogger } from '../../core/log/logger.ts';
import { systemClock, type Clock } from './clock.ts';
import type { GpiodConfig, LineSpec } from './config.ts';
import { Debouncer } from './debounce.ts';
import { GpiodTools, parseMonitorLine, type Bias, type LineRef } from './gpiod-tools.ts';
import { Listeners } from './listeners.ts';
import type { Gpio, InputPin, Level, OutputPin } from './types.ts';

const log = createLogger('gpio:gpiod');
const RESTART_MS = 1000;

interface Resolved extends LineRef {
  label: string;
  bias?: Bias;
}

/** A child that may be replaced; close() ends every one and waits for it. */
class Children {
  private readonly live = new Set<ChildProcess>();
  track(child: ChildProcess, what: string): ChildProcess {
    this.live.add(child);
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-500)));
    child.on('error', (err) => log.error(`${what} could not start`, { err: err.message }));
    child.on('exit', () => this.live.delete(child));
    Object.assign(child, { lastStderr: () => stderr.trim() });
    return child;
  }
  async closeAll(timeoutMs = 2000): Promise<void> {
    const waits = [...this.live].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          setTimeout(() => {
            c.kill('SIGKILL');
            resolve();
          }, timeoutMs).unref();
        }),
    );
    await Promise.all(waits);
  }
}
const stderrOf = (c: ChildProcess) => (c as ChildProcess & { lastStderr?: () => string }).lastStderr?.() ?? '';

export class GpiodGpio implements Gpio {
  readonly kind = 'gpiod';
  readonly tools: GpiodTools;
  private readonly clock: Clock;
  private readonly children = new Children();
  private readonly open = new Map<number, { close(): void }>();

  constructor(private readonly cfg: GpiodConfig, deps: { clock?: Clock } = {}) {
    this.clock = deps.clock ?? systemClock;
    this.tools = new GpiodTools(cfg.bin);
    log.info('libgpiod tools', { version: this.tools.version.text });
  }

  /** The line behind a door pin: its lines entry, or the line named GPIO<pin>. */
  resolve(pin: number): Resolved {
    const spec: LineSpec = this.cfg.lines[String(pin)] ?? `GPIO${pin}`;
    if (typeof spec === 'string') return { ...this.tools.find(spec), label: spec };
    if ('name' in spec) return { ...this.tools.find(spec.name), label: spec.name, bias: spec.bias };
    return { chip: spec.chip, offset: spec.offset, label: `${spec.chip}:${spec.offset}`, bias: spec.bias };
  }

  private claim(pin: number): void {
    if (this.open.has(pin)) throw new Error(`GPIO ${pin} is already open`);
  }

  output(pin: number, initial: Level): OutputPin {
    this.claim(pin);
    const line = this.resolve(pin);
    const tools = this.tools;
    tools.setNow(line, initial);
    let level: Level = initial;
    let holder: ChildProcess | undefined;
    let closed = false;
    let restart: unknown;
    const startHolder = () => {
      const child = this.children.track(tools.hold(line, level), `gpioset holder for ${line.label}`);
      holder = child;
      child.on('exit', (code, signal) => {
        if (holder !== child || closed) return;
        holder = undefined;
        log.error('gpioset holding an output exited; restarting it', { pin, line: line.label, code, signal, stderr: stderrOf(child) });
        restart = this.clock.setTimeout(() => !closed && !holder && startHolder(), RESTART_MS);
      });
    };
    const stopHolder = (how: 'kill' | 'release') => {
      const child = holder;
      holder = undefined;
      if (restart !== undefined) this.clock.clearTimeout(restart);
      restart = undefined;
      if (!child) return;
      // EOF ends gpioset --mode=wait after its value is set; a signal ends it at once.
      if (how === 'release') child.stdin?.end();
      else child.kill('SIGTERM');
    };
    startHolder();
    const handle: OutputPin = {
      pin,
      write: (v: Level) => {
        if (closed) throw new Error(`GPIO ${pin} is closed`);
        if (v === level && holder) return;
        stopHolder('kill');
        tools.setNow(line, v);
        level = v;
        startHolder();
      },
      read: () => level,
      close: () => {
        if (closed) return;
        closed = true;
        stopHolder('release');
        this.open.delete(pin);
      },
    };
    this.open.set(pin, handle);
    log.info('output line held', { pin, line: line.label, chip: line.chip, offset: line.offset, level });
    return handle;
  }

  input(pin: number, opts: { debounceMs: number }): InputPin {
    this.claim(pin);
    const line = this.resolve(pin);
    const bias = line.bias ?? this.cfg.bias;
    const listeners = new Listeners();
    const debouncer = new Debouncer(this.tools.get(line, bias), opts.debounceMs, this.clock, (level, ts) =>
      listeners.emit(level, ts, (err) => log.error('input listener threw', { pin, err: String(err) })),
    );
    let monitor: ChildProcess | undefined;
    let closed = false;
    let restart: unknown;
    const startMonitor = () => {
      const child = this.children.track(this.tools.monitor(line, bias), `gpiomon for ${line.label}`);
      monitor = child;
      createInterface({ input: child.stdout! }).on('line', (text) => {
        const level = parseMonitorLine(text);
        if (level === null) return log.warn('unexpected gpiomon output', { pin, text });
        if (!closed) debouncer.input(level);
      });
      child.on('exit', (code, signal) => {
        if (monitor !== child || closed) return;
        monitor = undefined;
        log.error('gpiomon watching an input exited; restarting it', { pin, line: line.label, code, signal, stderr: stderrOf(child) });
        restart = this.clock.setTimeout(() => {
          if (closed || monitor) return;
          // Edges while nobody watched are lost: read the level again before watching.
          try {
            debouncer.input(this.tools.get(line, bias));
          } catch (err) {
            log.error('gpioget failed', { pin, err: (err as Error).message });
          }
          startMonitor();
        }, RESTART_MS);
      });
    };
    startMonitor();
    const handle: InputPin = {
      pin,
      read: () => debouncer.level,
      onChange: (fn) => listeners.add(fn),
      close: () => {
        if (closed) return;
        closed = true;
        if (restart !== undefined) this.clock.clearTimeout(restart);
        debouncer.dispose();
        listeners.clear();
        monitor?.kill('SIGTERM');
        monitor = undefined;
        this.open.delete(pin);
      },
    };
    this.open.set(pin, handle);
    log.info('input line watched', { pin, line: line.label, chip: line.chip, offset: line.offset, bias, level: debouncer.level });
    return handle;
  }

  /** Release every line and wait for the tools to exit. */
  async close(): Promise<void> {
    for (const h of [...this.open.values()]) h.close();
    await this.children.closeAll();
  }
}
