/**
 * A camera backed by a long-running child process that writes MJPEG to stdout (rpicam-vid,
 * gst-launch-1.0, ffmpeg). When the process dies it is restarted with capped exponential
 * backoff, and the reason (exit code, signal, stderr tail) is logged, so an unplugged or busy
 * camera never turns into a tight crash loop.
 */
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { BaseCamera } from './base.ts';
import { MjpegSplitter } from './mjpeg.ts';

export interface RestartPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  /** A run that lasted this long counts as healthy and resets the backoff. */
  resetAfterMs: number;
}

export const defaultRestartPolicy: RestartPolicy = { initialDelayMs: 500, maxDelayMs: 30_000, factor: 2, resetAfterMs: 10_000 };

export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export interface ProcessCameraOptions {
  kind: string;
  /** Resolved lazily at each (re)start so a binary installed later is picked up. */
  command: () => { command: string; args: string[] };
  restart?: Partial<RestartPolicy>;
  spawn?: SpawnFn;
  maxFrameBytes?: number;
  /** Grace period between SIGTERM and SIGKILL on stop. */
  killTimeoutMs?: number;
  now?: () => number;
}

const STDERR_TAIL_BYTES = 2048;

export class ProcessCamera extends BaseCamera {
  readonly kind: string;
  private readonly policy: RestartPolicy;
  private readonly spawnFn: SpawnFn;
  private child: ChildProcess | undefined;
  private splitter: MjpegSplitter;
  private splitTotals = { garbageBytes: 0, corruptFrames: 0 };
  private stopping = false;
  private running = false;
  private attempt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private childExited: Promise<void> = Promise.resolve();
  /** Delays chosen for each restart, newest last (kept short; read by tests and status pages). */
  readonly restartDelays: number[] = [];

  constructor(private readonly opts: ProcessCameraOptions) {
    super(`camera:${opts.kind}`, opts.now);
    this.kind = opts.kind;
    this.policy = { ...defaultRestartPolicy, ...opts.restart };
    this.spawnFn = opts.spawn ?? (nodeSpawn as SpawnFn);
    this.splitter = new MjpegSplitter(opts.maxFrameBytes);
  }

  protected override splitterStats() {
    return {
      garbageBytes: this.splitTotals.garbageBytes + this.splitter.stats.garbageBytes,
      corruptFrames: this.splitTotals.corruptFrames + this.splitter.stats.corruptFrames,
    };
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.attempt = 0;
    this.mailbox.reopen();
    this.setStatus('starting');
    this.launch();
  }

  async stop(): Promise<void> {
    await this.halt();
    this.mailbox.close('stopped');
    this.setStatus('stopped');
  }

  /**
   * Stop the video process but keep the mailbox open, so the frame loop waits instead of ending
   * (a still capture needs the camera for itself); start() brings the video back.
   */
  protected async pause(): Promise<void> {
    await this.halt();
    this.setStatus('restarting');
  }

  private async halt(): Promise<void> {
    if (!this.running) return;
    this.stopping = true;
    this.running = false;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const killTimer = setTimeout(() => child.kill('SIGKILL'), this.opts.killTimeoutMs ?? 3000);
      child.kill('SIGTERM');
      await this.childExited;
      clearTimeout(killTimer);
    }
    this.child = undefined;
    this.mailbox.clear();
  }

  private launch(): void {
    const { command, args } = this.opts.command();
    this.resetSplitter();
    const startedAt = Date.now();
    let stderrTail = '';
    let spawnError: Error | undefined;
    let sawFrame = false;
    this.log.debug('spawning', { command, args });
    let child: ChildProcess;
    try {
      child = this.spawnFn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      this.scheduleRestart(`spawn failed: ${(err as Error).message}`, startedAt);
      return;
    }
    this.child = child;
    this.childExited = new Promise<void>((resolve) => {
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        resolve();
        if (this.child === child) this.child = undefined;
        this.splitter.end();
        if (this.stopping || !this.running) return;
        const why = spawnError
          ? `could not start ${command}: ${spawnError.message}`
          : `${command} exited (code ${code ?? 'none'}, signal ${signal ?? 'none'})`;
        this.scheduleRestart(why, sawFrame ? startedAt : Number.NaN, stderrTail.trim());
      });
    });
    child.once('error', (err) => {
      spawnError = err;
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderrTail = (stderrTail + d.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      for (const frame of this.splitter.push(chunk)) {
        if (!sawFrame) {
          sawFrame = true;
          this.setStatus('streaming');
        }
        this.publish(frame);
      }
    });
  }

  private resetSplitter(): void {
    this.splitTotals.garbageBytes += this.splitter.stats.garbageBytes;
    this.splitTotals.corruptFrames += this.splitter.stats.corruptFrames;
    this.splitter = new MjpegSplitter(this.opts.maxFrameBytes);
  }

  /** `healthySince` is NaN when the run produced no frame (never resets the backoff). */
  private scheduleRestart(why: string, healthySince: number, stderrTail = ''): void {
    if (Date.now() - healthySince >= this.policy.resetAfterMs) this.attempt = 0;
    const p = this.policy;
    const delay = Math.min(p.maxDelayMs, Math.round(p.initialDelayMs * p.factor ** this.attempt));
    this.attempt++;
    this.restartDelays.push(delay);
    if (this.restartDelays.length > 32) this.restartDelays.shift();
    this.countRestart();
    this.setStatus('restarting');
    this.log.warn(`camera process died, restarting in ${delay} ms`, { why, stderr: stderrTail.slice(-500), attempt: this.attempt });
    if (this.listenerCount('error') > 0) this.emit('error', new Error(`${this.kind} camera: ${why}`));
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.running && !this.stopping) {
        this.setStatus('starting');
        this.launch();
      }
    }, delay);
  }
}
