/**
 * sd_notify for the device daemon: READY=1 once serving, WATCHDOG=1 from the daemon's health
 * timer, STATUS= for `systemctl status`, STOPPING=1 on shutdown. The daemon pings while its
 * event loop runs and the door is started, so a camera outage never restarts the door
 * controller. Everything is a no-op when NOTIFY_SOCKET is unset.
 */
import { createLogger } from '../../core/log/logger.ts';
import type { SystemdConfig } from './config.ts';
import { readNotifyEnv } from './env.ts';
import { SystemdNotifyCommandTransport, type NotifyTransport } from './transport.ts';

const log = createLogger('systemd');

export interface SystemdNotifierDeps {
  config: SystemdConfig;
  env?: NodeJS.ProcessEnv;
  pid?: number;
  /** Replaces the systemd-notify transport (tests, or a native sender later). */
  transport?: NotifyTransport;
  now?: () => number;
}

export interface SystemdNotifier {
  /** True when messages are actually sent (NOTIFY_SOCKET set and type is not none). */
  readonly enabled: boolean;
  /** Least time between two WATCHDOG=1 (half of WATCHDOG_USEC); null when the watchdog is off. */
  readonly watchdogIntervalMs: number | null;
  ready(status?: string): Promise<void>;
  status(text: string): Promise<void>;
  /** Asks systemd for more start/stop time (EXTEND_TIMEOUT_USEC), e.g. while models load. */
  extendTimeout(ms: number): Promise<void>;
  /** Pings the watchdog if the interval has passed and no ping is in flight; returns whether it did. */
  watchdog(): boolean;
  stopping(status?: string): Promise<void>;
  /** Resolves when every queued message has been handed over (or failed and was logged). */
  flush(): Promise<void>;
}

/** STATUS is one line of the datagram; a newline would inject another variable. */
function statusField(text: string): string {
  return `STATUS=${text.replace(/[\r\n]+/g, ' ').slice(0, 1000)}`;
}

export function createSystemdNotifier(deps: SystemdNotifierDeps): SystemdNotifier {
  const env = readNotifyEnv(deps.env ?? process.env, deps.pid ?? process.pid);
  const now = deps.now ?? Date.now;
  const enabled = deps.config.type !== 'none' && env.socket !== null;
  const watchdogIntervalMs = enabled && env.watchdogUsec !== null ? Math.max(1, Math.floor(env.watchdogUsec / 2000)) : null;
  const transport: NotifyTransport | null = !enabled
    ? null
    : (deps.transport ??
      new SystemdNotifyCommandTransport({ command: deps.config.command, socket: env.socket!, timeoutMs: deps.config.commandTimeoutMs, env: deps.env }));

  let queue: Promise<void> = Promise.resolve();
  let pingInFlight = false;
  let lastPingAt = -Infinity;
  let lastStatus: string | null = null;
  let lastFailure = { message: '', at: -Infinity };

  function logFailure(fields: readonly string[], err: Error): void {
    // A broken notifier fails on every ping; say so once a minute, not per frame.
    const t = now();
    if (err.message === lastFailure.message && t - lastFailure.at < 60_000) return;
    lastFailure = { message: err.message, at: t };
    log.warn('sd_notify failed', { fields: fields.join(' '), error: err.message });
  }

  function enqueue(fields: string[]): Promise<void> {
    if (!transport) return Promise.resolve();
    const next = queue.then(() => transport.send(fields).catch((err: Error) => logFailure(fields, err)));
    queue = next;
    return next;
  }

  if (enabled) log.info('systemd notification enabled', { socket: env.socket, watchdogIntervalMs });

  return {
    enabled,
    watchdogIntervalMs,
    ready(status) {
      const fields = ['READY=1'];
      if (status !== undefined) {
        lastStatus = status;
        fields.push(statusField(status));
      }
      return enqueue(fields);
    },
    status(text) {
      if (text === lastStatus) return queue;
      lastStatus = text;
      return enqueue([statusField(text)]);
    },
    extendTimeout(ms) {
      return enqueue([`EXTEND_TIMEOUT_USEC=${Math.max(0, Math.round(ms * 1000))}`]);
    },
    watchdog() {
      if (watchdogIntervalMs === null || pingInFlight) return false;
      const t = now();
      if (t - lastPingAt < watchdogIntervalMs) return false;
      lastPingAt = t;
      pingInFlight = true;
      void enqueue(['WATCHDOG=1']).finally(() => {
        pingInFlight = false;
      });
      return true;
    },
    stopping(status) {
      const fields = ['STOPPING=1'];
      if (status !== undefined) fields.push(statusField(status));
      return enqueue(fields);
    },
    flush() {
      return queue;
    },
  };
}
