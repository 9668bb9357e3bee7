import { describe, expect, it } from 'vitest';
import { createSystemdNotifier } from '../../../device/systemd/notifier.ts';
import { systemdConfigSchema } from '../../../device/systemd/config.ts';
import { readNotifyEnv } from '../../../device/systemd/env.ts';
import { MemoryNotifyTransport } from '../../../device/systemd/transport.ts';
import { addLogSink, type LogRecord } from '../../../core/log/logger.ts';

const config = systemdConfigSchema.parse({});

function setup(env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/run/fake.sock', WATCHDOG_USEC: '10000000' }) {
  let clock = 0;
  const transport = new MemoryNotifyTransport();
  const notifier = createSystemdNotifier({ config, env, pid: 4242, transport, now: () => clock });
  return { transport, notifier, advance: (ms: number) => (clock += ms) };
}

describe('readNotifyEnv', () => {
  it('reads socket and watchdog, honouring WATCHDOG_PID', () => {
    expect(readNotifyEnv({}, 1)).toEqual({ socket: null, watchdogUsec: null });
    expect(readNotifyEnv({ NOTIFY_SOCKET: '@abc', WATCHDOG_USEC: '2000000' }, 1)).toEqual({ socket: '@abc', watchdogUsec: 2_000_000 });
    expect(readNotifyEnv({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '2000000', WATCHDOG_PID: '7' }, 7).watchdogUsec).toBe(2_000_000);
    expect(readNotifyEnv({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '2000000', WATCHDOG_PID: '8' }, 7).watchdogUsec).toBeNull();
    expect(readNotifyEnv({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: 'soon' }, 7).watchdogUsec).toBeNull();
  });
});

describe('systemd notifier (fake transport)', () => {
  it('is a no-op when NOTIFY_SOCKET is unset or type is none', async () => {
    for (const [env, cfg] of [[{}, config], [{ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '1000000' }, systemdConfigSchema.parse({ type: 'none' })]] as const) {
      const transport = new MemoryNotifyTransport();
      const n = createSystemdNotifier({ config: cfg, env, transport });
      expect(n.enabled).toBe(false);
      expect(n.watchdogIntervalMs).toBeNull();
      await n.ready('up');
      expect(n.watchdog()).toBe(false);
      await n.stopping();
      expect(transport.sent).toEqual([]);
    }
  });

  it('sends READY=1 with status, STATUS=, EXTEND_TIMEOUT_USEC and STOPPING=1 in order', async () => {
    const { transport, notifier } = setup();
    expect(notifier.enabled).toBe(true);
    void notifier.extendTimeout(30_000);
    void notifier.ready('serving, gallery 12');
    void notifier.status('serving, gallery 12'); // unchanged text is not resent
    void notifier.status('camera down\nINJECTED=1');
    await notifier.stopping('shutting down');
    expect(transport.sent).toEqual([
      ['EXTEND_TIMEOUT_USEC=30000000'],
      ['READY=1', 'STATUS=serving, gallery 12'],
      ['STATUS=camera down INJECTED=1'],
      ['STOPPING=1', 'STATUS=shutting down'],
    ]);
  });

  it('rate-limits WATCHDOG=1 to half of WATCHDOG_USEC', async () => {
    const { transport, notifier, advance } = setup();
    expect(notifier.watchdogIntervalMs).toBe(5000);
    expect(notifier.watchdog()).toBe(true);
    await notifier.flush();
    // a frame loop at 10 fps for 12 s
    let sent = 1;
    for (let i = 0; i < 120; i++) {
      advance(100);
      if (notifier.watchdog()) sent++;
      await notifier.flush();
    }
    expect(sent).toBe(3); // t=0, 5 s, 10 s
    expect(transport.sent.filter((f) => f[0] === 'WATCHDOG=1')).toHaveLength(3);
  });

  it('pings stop when the loop stops progressing', async () => {
    const { transport, notifier, advance } = setup();
    const loop = (progresses: () => boolean) => {
      for (let i = 0; i < 100; i++) {
        advance(100);
        if (progresses()) notifier.watchdog();
      }
    };
    loop(() => true);
    await notifier.flush();
    const before = transport.sent.length;
    expect(before).toBeGreaterThan(0);
    loop(() => false); // camera hung: no frame completes, so no pings for 10 s
    await notifier.flush();
    expect(transport.sent.length).toBe(before);
  });

  it('no watchdog pings when WATCHDOG_USEC is absent or meant for another pid', () => {
    expect(setup({ NOTIFY_SOCKET: '/s' }).notifier.watchdog()).toBe(false);
    expect(setup({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' }).notifier.watchdog()).toBe(false);
    expect(setup({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '4242' }).notifier.watchdog()).toBe(true);
  });

  it('does not pile up pings behind a slow notifier', async () => {
    const { transport, notifier, advance } = setup();
    let open!: () => void;
    transport.gate = new Promise((r) => (open = r));
    expect(notifier.watchdog()).toBe(true);
    advance(60_000);
    expect(notifier.watchdog()).toBe(false); // first still in flight
    open();
    await notifier.flush();
    expect(notifier.watchdog()).toBe(true);
    await notifier.flush();
    expect(transport.sent).toEqual([['WATCHDOG=1'], ['WATCHDOG=1']]);
  });

  it('a failing transport is logged (once per minute per error) and never throws', async () => {
    const records: LogRecord[] = [];
    const off = addLogSink((r) => records.push(r));
    try {
      const { transport, notifier, advance } = setup();
      transport.failWith = new Error('systemd-notify not found');
      await notifier.ready();
      for (let i = 0; i < 5; i++) {
        advance(5000);
        notifier.watchdog();
        await notifier.flush();
      }
      const warns = records.filter((r) => r.module === 'systemd' && r.level === 'warn');
      expect(warns).toHaveLength(1);
      expect(warns[0].fields?.error).toBe('systemd-notify not found');
      advance(60_000);
      notifier.watchdog();
      await notifier.flush();
      expect(records.filter((r) => r.module === 'systemd' && r.level === 'warn')).toHaveLength(2);
      transport.failWith = null;
      await notifier.stopping();
      expect(transport.sent).toEqual([['STOPPING=1']]);
    } finally {
      off();
    }
  });
});
