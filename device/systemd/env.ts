/** What systemd tells a service through its environment (see sd_notify(3), sd_watchdog_enabled(3)). */

export interface NotifyEnv {
  /** Notification socket path (or "@abstract" name); null when not run by systemd with Type=notify. */
  socket: string | null;
  /** Watchdog timeout in microseconds; null when the watchdog is off for this process. */
  watchdogUsec: number | null;
}

export function readNotifyEnv(env: NodeJS.ProcessEnv, pid: number): NotifyEnv {
  const socket = env.NOTIFY_SOCKET && env.NOTIFY_SOCKET.length > 0 ? env.NOTIFY_SOCKET : null;
  let watchdogUsec: number | null = null;
  const usec = env.WATCHDOG_USEC;
  if (usec && /^\d+$/.test(usec) && Number(usec) > 0) watchdogUsec = Number(usec);
  // WATCHDOG_PID names the process the watchdog is meant for; a child that inherited it must not ping.
  const wpid = env.WATCHDOG_PID;
  if (wpid !== undefined && wpid !== '' && wpid !== String(pid)) watchdogUsec = null;
  return { socket, watchdogUsec };
}
