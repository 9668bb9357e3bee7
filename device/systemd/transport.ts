/**
 * Delivery of sd_notify messages. Node's dgram module cannot send to AF_UNIX datagram sockets,
 * so the real transport runs systemd-notify(1) with the fields as arguments. systemd-notify
 * (systemd >= 246) waits on a BARRIER so systemd reads the message while the sender is still
 * alive; with NotifyAccess=all in the unit the message is accepted from this child process.
 */
import { spawn } from 'node:child_process';

export interface NotifyTransport {
  /** Sends one datagram of newline-joined VARIABLE=VALUE fields. Rejects on failure. */
  send(fields: readonly string[]): Promise<void>;
}

export interface CommandTransportOptions {
  command: string;
  socket: string;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

export class SystemdNotifyCommandTransport implements NotifyTransport {
  constructor(private readonly opts: CommandTransportOptions) {}

  send(fields: readonly string[]): Promise<void> {
    const { command, socket, timeoutMs } = this.opts;
    return new Promise((resolve, reject) => {
      const child = spawn(command, [...fields], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...(this.opts.env ?? process.env), NOTIFY_SOCKET: socket },
      });
      let stderr = '';
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        finish(new Error(`${command} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (d: string) => {
        if (stderr.length < 2000) stderr += d;
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        finish(new Error(err.code === 'ENOENT' ? `${command} not found (is systemd installed? set systemd.command)` : `${command}: ${err.message}`));
      });
      child.on('close', (code, signal) => {
        if (code === 0) finish();
        else finish(new Error(`${command} failed (${signal ?? `exit ${code}`})${stderr ? `: ${stderr.trim()}` : ''}`));
      });
    });
  }
}

/** Fake transport: records every message; can be told to fail. */
export class MemoryNotifyTransport implements NotifyTransport {
  readonly sent: string[][] = [];
  failWith: Error | null = null;
  /** When set, send() waits for this promise before completing (simulates a slow notifier). */
  gate: Promise<void> | null = null;

  async send(fields: readonly string[]): Promise<void> {
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
    this.sent.push([...fields]);
  }
}
