/**
 * Broker ACL as pure functions, so the embedded broker, the Mosquitto ACL generator and the
 * tests all read one definition (plan.md, "MQTT topic layout"):
 * - device X publishes only `portier/v1/devices/X/availability` and `.../X/up/<kind>` for the
 *   kinds of the contract (`upKinds`), retained only on `availability` and `up/status`: the
 *   broker keeps every retained message in memory, so a device may own two of them, not one
 *   per topic name it cares to invent. It subscribes only to `.../X/down/+`, `.../X/down/#`,
 *   one exact `.../X/down/<kind>`, and `portier/v1/gateway/availability`. No other wildcard:
 *   `#` or `portier/v1/devices/+/down/+` would let one device read another's traffic.
 * - the gateway's own client does anything under `portier/v1/`.
 * - the admin (operator/monitor) user does anything, `$SYS` included.
 * Nobody publishes to `$`-topics: aedes uses `$SYS/<id>/new/clients` internally to close
 * sessions, so a client publishing there could disconnect anyone.
 */
import { topics, upKinds } from '../../core/sync/contract.ts';
import { PREFIX, deviceRoot, gatewayAvailabilityTopic, isDeviceId, isLiteralLevel, isPlainTopic, isValidFilter } from './topics.ts';

export type BrokerPrincipal = { kind: 'device'; deviceId: string } | { kind: 'gateway' } | { kind: 'admin' };

const under = (s: string, prefix: string) => s.startsWith(prefix) && s.length > prefix.length;

const deviceUpKinds: ReadonlySet<string> = new Set(upKinds);
/** The up kinds a device may publish retained (its last status, served to a restarted gateway). */
export const retainedUpKinds: ReadonlySet<string> = new Set(['status']);

/** Whether `p` may publish on `topic`; `retain` is the message's retain flag (a will's too). */
export function mayPublish(p: BrokerPrincipal, topic: string, retain: boolean): boolean {
  if (!isPlainTopic(topic) || topic.startsWith('$')) return false;
  switch (p.kind) {
    case 'admin':
      return true;
    case 'gateway':
      return under(topic, `${PREFIX}/`);
    case 'device': {
      if (!isDeviceId(p.deviceId)) return false;
      const root = deviceRoot(p.deviceId);
      if (topic === topics.deviceAvailability(p.deviceId)) return true;
      const up = `${root}/up/`;
      if (!topic.startsWith(up)) return false;
      const kind = topic.slice(up.length);
      return deviceUpKinds.has(kind) && (!retain || retainedUpKinds.has(kind));
    }
  }
}

export function maySubscribe(p: BrokerPrincipal, filter: string): boolean {
  if (!isValidFilter(filter)) return false;
  if (p.kind === 'admin') return true;
  // `$SYS/...` and shared subscriptions (`$share/<group>/<filter>`) are for the admin only.
  if (filter.startsWith('$')) return false;
  if (p.kind === 'gateway') return under(filter, `${PREFIX}/`);
  if (!isDeviceId(p.deviceId)) return false;
  if (filter === gatewayAvailabilityTopic) return true;
  const down = `${deviceRoot(p.deviceId)}/down/`;
  if (!filter.startsWith(down)) return false;
  const rest = filter.slice(down.length);
  return rest === '+' || rest === '#' || isLiteralLevel(rest);
}

/**
 * Whether a message on `topic` may be delivered to this client: a second line behind
 * maySubscribe, applied to every forwarded and retained message, so a subscription that slipped
 * through (a bug, a restored session from an older ACL) still cannot carry another device's data.
 */
export function mayReceive(p: BrokerPrincipal, topic: string): boolean {
  switch (p.kind) {
    case 'admin':
      return true;
    case 'gateway':
      return under(topic, `${PREFIX}/`);
    case 'device':
      return isDeviceId(p.deviceId) && (topic === gatewayAvailabilityTopic || under(topic, `${deviceRoot(p.deviceId)}/down/`));
  }
}
