/**
 * The slice of the MQTT contract the broker's ACL needs. Topic names come from core/sync, the
 * single source both sides use; this file only adds the topic-filter helpers the ACL checks with.
 */
import { PREFIX, deviceIdPattern, topics } from '../../core/sync/contract.ts';

export { PREFIX, deviceIdPattern };

/** `portier/v1/devices/{id}` — every topic of one device lives under it. */
export const deviceRoot = (deviceId: string) => `${PREFIX}/devices/${deviceId}`;
export const gatewayAvailabilityTopic = topics.gatewayAvailability();

export const isDeviceId = (s: string): boolean => deviceIdPattern.test(s);

/**
 * A topic a client may publish to: non-empty, no wildcard, no NUL, no empty level (empty
 * levels are legal MQTT, but nothing in the contract uses them and they make `+` ambiguous).
 */
export function isPlainTopic(topic: string): boolean {
  if (topic.length === 0 || topic.length > 65535) return false;
  if (/[+#\u0000]/.test(topic)) return false;
  return topic.split('/').every((l) => l.length > 0);
}

/** A syntactically valid topic filter: `#` only as the whole last level, `+` only as a whole level. */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.length > 65535 || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  return levels.every((l, i) => {
    if (l === '#') return i === levels.length - 1;
    if (l === '+') return true;
    return !l.includes('#') && !l.includes('+');
  });
}

/** A single topic level with no wildcard, separator or NUL. */
export const isLiteralLevel = (l: string | undefined): l is string => !!l && !/[+#/\u0000]/.test(l);
