import { describe, expect, it } from 'vitest';
import { mayPublish, mayReceive, maySubscribe, type BrokerPrincipal } from '../../../gateway/broker/acl.ts';

const P = 'portier/v1';
const devA: BrokerPrincipal = { kind: 'device', deviceId: 'dev-a' };
const gw: BrokerPrincipal = { kind: 'gateway' };
const admin: BrokerPrincipal = { kind: 'admin' };

describe('mayPublish', () => {
  it('lets a device publish its availability and the up kinds of the contract only', () => {
    expect(mayPublish(devA, `${P}/devices/dev-a/availability`, false)).toBe(true);
    for (const k of ['hello', 'status', 'audit', 'sync', 'response']) expect(mayPublish(devA, `${P}/devices/dev-a/up/${k}`, false)).toBe(true);
    for (const t of [
      `${P}/devices/dev-a/up/x`,
      `${P}/devices/dev-a/up/junk-1`,
      `${P}/devices/dev-a/up/Status`,
      `${P}/devices/dev-b/up/audit`,
      `${P}/devices/dev-b/availability`,
      `${P}/devices/dev-a/down/command`,
      `${P}/devices/dev-a/up`,
      `${P}/devices/dev-a/up/`,
      `${P}/devices/dev-a/up/a/b`,
      `${P}/devices/dev-a/up/+`,
      `${P}/devices/dev-a/up/#`,
      `${P}/gateway/availability`,
      `${P}/devices/dev-a`,
      `${P}/devices/dev-a-x/up/audit`,
      `$SYS/broker/new/clients`,
      '',
    ])
      for (const retain of [false, true]) expect(mayPublish(devA, t, retain), t).toBe(false);
  });

  it('lets a device retain only its availability and status', () => {
    expect(mayPublish(devA, `${P}/devices/dev-a/availability`, true)).toBe(true);
    expect(mayPublish(devA, `${P}/devices/dev-a/up/status`, true)).toBe(true);
    for (const k of ['hello', 'audit', 'sync', 'response']) expect(mayPublish(devA, `${P}/devices/dev-a/up/${k}`, true), k).toBe(false);
    // The gateway and the admin retain what they like under their rights.
    expect(mayPublish(gw, `${P}/gateway/availability`, true)).toBe(true);
    expect(mayPublish(gw, `${P}/devices/dev-a/down/notify`, true)).toBe(true);
    expect(mayPublish(admin, 'anything/at/all', true)).toBe(true);
  });

  it('refuses a device whose id is not a valid device id', () => {
    const bad: BrokerPrincipal = { kind: 'device', deviceId: '+' };
    expect(mayPublish(bad, `${P}/devices/+/availability`, false)).toBe(false);
    expect(maySubscribe(bad, `${P}/devices/+/down/+`)).toBe(false);
    expect(mayReceive(bad, `${P}/devices/x/down/ack`)).toBe(false);
  });

  it('keeps the gateway under the prefix and everyone away from $-topics', () => {
    expect(mayPublish(gw, `${P}/devices/dev-a/down/changes`, false)).toBe(true);
    expect(mayPublish(gw, `${P}/gateway/availability`, false)).toBe(true);
    expect(mayPublish(gw, `${P}`, false)).toBe(false);
    expect(mayPublish(gw, 'portier/v2/x', false)).toBe(false);
    expect(mayPublish(gw, 'portier/v1x/a', false)).toBe(false);
    expect(mayPublish(admin, 'anything/at/all', false)).toBe(true);
    for (const p of [devA, gw, admin]) expect(mayPublish(p, '$SYS/abc/new/clients', false)).toBe(false);
  });
});

describe('maySubscribe', () => {
  it('allows a device exactly its down topics and the gateway availability', () => {
    for (const f of [`${P}/devices/dev-a/down/+`, `${P}/devices/dev-a/down/#`, `${P}/devices/dev-a/down/changes`, `${P}/gateway/availability`])
      expect(maySubscribe(devA, f), f).toBe(true);
    for (const f of [
      '#',
      '+/#',
      `${P}/#`,
      `${P}/devices/+/down/+`,
      `${P}/devices/dev-b/down/+`,
      `${P}/devices/dev-a/up/+`,
      `${P}/devices/dev-a/#`,
      `${P}/devices/dev-a/down/+/x`,
      `${P}/devices/dev-a/down/a#`,
      `${P}/+/availability`,
      '$SYS/#',
      `$share/g/${P}/devices/dev-a/down/+`,
    ])
      expect(maySubscribe(devA, f), f).toBe(false);
  });

  it('lets the gateway subscribe under the prefix and the admin everywhere', () => {
    expect(maySubscribe(gw, `${P}/#`)).toBe(true);
    expect(maySubscribe(gw, `${P}/devices/+/up/+`)).toBe(true);
    for (const f of ['#', '+/v1/#', 'portier/#', '$SYS/#', `$share/g/${P}/#`]) expect(maySubscribe(gw, f), f).toBe(false);
    for (const f of ['#', '$SYS/#', `$share/g/${P}/#`]) expect(maySubscribe(admin, f), f).toBe(true);
    expect(maySubscribe(admin, 'a/#/b')).toBe(false);
  });
});

describe('mayReceive', () => {
  it("never delivers another device's traffic to a device", () => {
    expect(mayReceive(devA, `${P}/devices/dev-a/down/ack`)).toBe(true);
    expect(mayReceive(devA, `${P}/gateway/availability`)).toBe(true);
    expect(mayReceive(devA, `${P}/devices/dev-b/down/ack`)).toBe(false);
    expect(mayReceive(devA, `${P}/devices/dev-a/up/audit`)).toBe(false);
    expect(mayReceive(devA, '$SYS/x/heartbeat')).toBe(false);
    expect(mayReceive(gw, `${P}/devices/dev-b/up/audit`)).toBe(true);
    expect(mayReceive(gw, '$SYS/x/heartbeat')).toBe(false);
    expect(mayReceive(admin, '$SYS/x/heartbeat')).toBe(true);
  });
});
