/**
 * One audit entry in words: "Granted", "Refused: outside their hours", "Security: door forced
 * open", "Remote unlock by alice: courier". Security events (messages refused for their
 * signature or content, forced-open and held-open alarms) are flagged so the page can make them
 * stand out; their text always starts with "Security:".
 */
import { decisionInWords } from '../words.ts';

/** An entry as GET /api/audit and the stream send it (gateway/http/present.ts auditView). */
export interface AuditItem {
  id: number;
  time: string;
  ts: number;
  deviceId: string | null;
  eventId: string;
  kind: string;
  decision: 'granted' | 'denied' | null;
  reason: string | null;
  personId: string | null;
  personName: string | null;
  door: string | null;
  actor: string | null;
  target: string | null;
  body: unknown;
}

export interface Described {
  text: string;
  /** granted / refused / security / info: decides the entry's colour. */
  tone: 'granted' | 'refused' | 'security' | 'info';
}

/** Why a signed message was refused (core/sync/envelope.ts RejectReason, device/sync/verify.ts). */
const rejected: Record<string, string> = {
  bad_signature: 'bad signature',
  wrong_key: 'signed with the wrong key',
  unsigned: 'not signed',
  malformed: 'malformed message',
  not_for_me: 'addressed to another device',
  expired: 'expired message',
  replayed: 'replayed message',
  bad_topic: 'wrong topic',
  invalid_body: 'invalid content',
  unsealable: 'could not be decrypted',
};
const rejectedInWords = (r: string) => rejected[r] ?? r.replace(/_/g, ' ');

const doorEvents: Record<string, string> = {
  unlocked: 'Door unlocked',
  relocked: 'Door locked again',
  opened: 'Door opened',
  closed: 'Door closed',
  alarm_cleared: 'Door alarm cleared',
  rex: 'Exit button pressed',
};

const actions: Record<string, string> = {
  'person.create': 'added',
  'person.update': 'changed',
  'person.delete': 'deleted',
  'person.deactivate': 'deactivated',
  'person.activate': 'activated',
  'person.enrol': 'enrolled photos of',
  'template.delete': 'removed a template of',
  'group.create': 'added the group',
  'group.update': 'changed the group',
  'group.delete': 'deleted the group',
  'door.create': 'added the door',
  'door.update': 'renamed the door',
  'door.delete': 'deleted the door',
  'device.provision': 'provisioned the device',
  'device.update': 'changed the device',
  'device.delete': 'decommissioned the device',
  'device.resync': 'asked for a full resync of',
  'device.enrol_here': 'started an enrolment at',
  'auth.setup': 'set up the gateway as',
  'auth.login': 'logged in',
  'auth.logout': 'logged out',
  'auth.password_change': 'changed the password of',
  'user.create': 'added the user',
  'user.delete': 'removed the user',
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
const s = (v: unknown): string => (typeof v === 'string' ? v : '');

export function describeEntry(e: AuditItem, doorName: (id: string) => string = (id) => id): Described {
  const b = obj(e.body);
  if (e.kind === 'decision') {
    if (e.decision === 'granted') return { text: 'Granted', tone: 'granted' };
    return { text: `Refused: ${decisionInWords(e.reason) || 'no reason given'}`, tone: 'refused' };
  }
  if (e.kind === 'security') {
    const raw = s(b.reason) || e.reason || '';
    const reason = raw.replace(/^rejected:/, '');
    const where = b.at === 'gateway' ? 'at the gateway' : 'at the door';
    return { text: `Security: message rejected ${where} (${rejectedInWords(reason) || 'unknown reason'})`, tone: 'security' };
  }
  if (e.kind === 'door') {
    const type = s(b.type) || e.reason || '';
    if (type === 'forced_open_alarm') return { text: 'Security: door forced open', tone: 'security' };
    if (type === 'held_open_alarm') {
      const secs = typeof b.openForMs === 'number' ? ` (over ${Math.round(b.openForMs / 1000)} s)` : '';
      return { text: `Security: door held open${secs}`, tone: 'security' };
    }
    if (type === 'remote_unlock') return { text: `Door released remotely for ${s(b.actor) || 'an admin'}${s(b.reason) ? `: ${s(b.reason)}` : ''}`, tone: 'info' };
    if (type === 'release') return { text: `Door released${s(b.reason) && s(b.reason) !== 'granted' ? ` (${s(b.reason).replace(/_/g, ' ')})` : ''}`, tone: 'info' };
    return { text: doorEvents[type] ?? `Door: ${type.replace(/_/g, ' ')}`, tone: 'info' };
  }
  if (e.kind === 'admin') {
    const action = e.reason ?? s(b.action);
    const details = obj(b.details);
    const failed = typeof details.status === 'number' && details.status >= 400 ? ' (failed)' : '';
    const who = e.actor ?? 'an admin';
    if (action === 'device.unlock') {
      const where = s(details.door) ? doorName(s(details.door)) : (e.deviceId ?? 'a door');
      return { text: `${who} unlocked ${where} remotely${s(details.reason) ? `: ${s(details.reason)}` : ''}${failed}`, tone: 'info' };
    }
    if (action.endsWith('_failed')) {
      const why = s(details.reason) ? ` (${s(details.reason).replace(/_/g, ' ')})` : '';
      const what = action === 'auth.login_failed' ? `Failed login${e.target ? ` as ${e.target}` : ''}` : action === 'auth.setup_failed' ? 'Failed first-run setup' : `${who}: ${action.replace(/[._]/g, ' ')}`;
      return { text: `${what}${why}`, tone: 'refused' };
    }
    const object = action.startsWith('device.') ? (e.target ?? e.deviceId) : (e.personName ?? e.target);
    const forWhom = action === 'device.enrol_here' && e.personName ? ` for ${e.personName}` : '';
    return { text: `${who} ${actions[action] ?? action.replace(/[._]/g, ' ')}${object ? ` ${object}` : ''}${forWhom}${failed}`, tone: 'info' };
  }
  return { text: `${e.kind}${e.reason ? `: ${e.reason.replace(/_/g, ' ')}` : ''}`, tone: 'info' };
}

/** What the live view shows unless asked for everything: decisions, alarms, security, commands to doors, failed logins. */
export function isNotable(e: AuditItem): boolean {
  if (e.kind === 'decision' || e.kind === 'security') return true;
  if (e.kind === 'door') return ['forced_open_alarm', 'held_open_alarm', 'alarm_cleared', 'remote_unlock'].includes(s(obj(e.body).type) || e.reason || '');
  if (e.kind === 'admin') return (e.reason ?? '').startsWith('device.') || (e.reason ?? '').endsWith('_failed');
  return true;
}
