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
 *   that dies unexpectedly, or fails to start at all, is restarted after a second (Supervised);
 *   healthy() says whether every one runs.
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

/** Every child started; close() ends each one and waits for it. */
class Children {
  private readonly live = new Set<ChildProcess>();
  track(child: ChildProcess, what: string): ChildProcess {
    this.live.add(child);
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-500)));
    child.on('error', (err) => log.error(`${what} could not start`, { err: err.message }));
    // A child that failed to spawn emits 'close' but never 'exit'.
    child.on('exit', () => this.live.delete(child));
    child.on('close', () => this.live.delete(child));
    Object.assign(child, { lastStderr: () => stderr.trim() });
    return child;
  }
  async closeAll(timeoutMs = 2000): Promise<void> {
    const waits = [...this.live].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return resolve();
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

/**
 * One long-lived tool process (an output's holder, an input's monitor), started again a second
 * after it ends unexpectedly. The end is taken from 'exit' or 'close', whichever comes first, once
 * per child: a child that fails to spawn (ENOENT, EAGAIN, EMFILE) emits 'error' and 'close' but
 * never 'exit', and must be restarted all the same.
 */
class Supervised {
  private child: ChildProcess | undefined;
  private timer: unknown;
  private stopped = false;

  constructor(
    private readonly o: {
      what: string;
      fields: Record<string, unknown>;
      clock: Clock;
      children: Children;
      spawn: () => ChildProcess;
      /** Runs before a restart (an input reads its level again). */
      beforeRestart?: () => void;
    },
  ) {}

  /** A child is running: spawned, and not known to have ended. */
  get alive(): boolean {
    const c = this.child;
    return !!c && c.pid !== undefined && c.exitCode === null && c.signalCode === null;
  }

  start(): ChildProcess {
    const child = this.o.children.track(this.o.spawn(), this.o.what);
    this.child = child;
    let ended = false;
    const onEnd = (code: number | null, signal: NodeJS.Signals | null) => {
      if (ended) return;
      ended = true;
      if (this.child !== child || this.stopped) return;
      this.child = undefined;
      log.error(`${this.o.what} ended; restarting it`, { ...this.o.fields, code, signal, spawned: child.pid !== undefined, stderr: stderrOf(child) });
      this.restartLater();
    };
    child.on('exit', onEnd);
    child.on('close', onEnd);
    return child;
  }

  private restartLater(): void {
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.stopped || this.child) return;
      this.o.beforeRestart?.();
      try {
        this.start();
      } catch (err) {
        // spawn() throws outright for errors other than the usual ones; try again later.
        log.error(`${this.o.what} could not start; trying again`, { ...this.o.fields, err: (err as Error).message });
        this.restartLater();
      }
    }, RESTART_MS);
  }

  /** End the current child (if any) without a restart; `stop` also ends supervision. */
  end(how: (child: ChildProcess) => void): void {
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const c = this.child;
    this.child = undefined;
    if (c) how(c);
  }

  stop(how: (child: ChildProcess) => void): void {
    this.stopped = true;
    this.end(how);
  }
}

export class GpiodGpio implements Gpio {
  readonly kind = 'gpiod';
  readonly tools: GpiodTools;
  private readonly clock: Clock;
  private readonly children = new Children();
  private readonly open = new Map<number, { close(): void }>();
  private readonly supervised = new Set<Supervised>();

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
    let closed = false;
    const holder = new Supervised({
      what: `gpioset holder for ${line.label}`,
      fields: { pin, line: line.label },
      clock: this.clock,
      children: this.children,
      spawn: () => tools.hold(line, level),
    });
    this.supervised.add(holder);
    holder.start();
    const handle: OutputPin = {
      pin,
      write: (v: Level) => {
        if (closed) throw new Error(`GPIO ${pin} is closed`);
        // Only a running holder keeps the level: after one that died (or never started) set it again.
        if (v === level && holder.alive) return;
        holder.end((c) => c.kill('SIGTERM'));
        tools.setNow(line, v);
        level = v;
        holder.start();
      },
      read: () => level,
      close: () => {
        if (closed) return;
        closed = true;
        // EOF ends gpioset --mode=wait after its value is set; a signal ends it at once.
        holder.stop((c) => c.stdin?.end());
        this.supervised.delete(holder);
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
    let closed = false;
    const monitor = new Supervised({
      what: `gpiomon for ${line.label}`,
      fields: { pin, line: line.label },
      clock: this.clock,
      children: this.children,
      spawn: () => {
        const child = this.tools.monitor(line, bias);
        // stdout is missing only when the spawn failed before its pipes were made (EMFILE).
        if (child.stdout) {
          createInterface({ input: child.stdout }).on('line', (text) => {
            const level = parseMonitorLine(text);
            if (level === null) return log.warn('unexpected gpiomon output', { pin, text });
            if (!closed) debouncer.input(level);
          });
        }
        return child;
      },
      beforeRestart: () => {
        // Edges while nobody watched are lost: read the level again before watching.
        try {
          debouncer.input(this.tools.get(line, bias));
        } catch (err) {
          log.error('gpioget failed', { pin, err: (err as Error).message });
        }
      },
    });
    this.supervised.add(monitor);
    monitor.start();
    const handle: InputPin = {
      pin,
      read: () => debouncer.level,
      onChange: (fn) => listeners.add(fn),
      close: () => {
        if (closed) return;
        closed = true;
        debouncer.dispose();
        listeners.clear();
        monitor.stop((c) => c.kill('SIGTERM'));
        this.supervised.delete(monitor);
        this.open.delete(pin);
      },
    };
    this.open.set(pin, handle);
    log.info('input line watched', { pin, line: line.label, chip: line.chip, offset: line.offset, bias, level: debouncer.level });
    return handle;
  }

  /** Every holder and monitor of an open pin is running (false while one waits for its restart). */
  healthy(): boolean {
    return [...this.supervised].every((s) => s.alive);
  }

  /** Release every line and wait for the tools to exit. */
  async close(): Promise<void> {
    for (const h of [...this.open.values()]) h.close();
    await this.children.closeAll();
  }
}
