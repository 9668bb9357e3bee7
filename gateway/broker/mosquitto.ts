/**
 * What an external Mosquitto (2.x) needs to enforce the same rules as the embedded broker:
 * password-file lines in mosquitto_passwd's own format and ACL-file blocks generated from the
 * same topic layout as acl.ts. `portier provision` prints them; mosquittoConfig() writes a
 * matching mosquitto.conf (tests, and a starting point for operators).
 *
 * Password format (mosquitto 2.x, `$7$` = PBKDF2-HMAC-SHA512, what `mosquitto_passwd -b`
 * writes by default): `user:$7$<iterations>$<base64 12-byte salt>$<base64 64-byte hash>`,
 * standard base64 with padding, 101 iterations (mosquitto's default). The iteration count is
 * low because broker passwords are 24 random bytes: brute force is hopeless at any count.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { topics, upKinds } from '../../core/sync/contract.ts';
import { PREFIX, deviceRoot, gatewayAvailabilityTopic, isDeviceId } from './topics.ts';

const ITERATIONS = 101;
const SALT_LEN = 12;
const HASH_LEN = 64;

// Mosquitto splits password lines at ':' and ACL lines at whitespace: a name with either (or a
// newline) would corrupt the file or inject rules.
function checkUsername(username: string): void {
  if (!username || /[\s:#\u0000]/.test(username)) throw new Error(`mosquitto username ${JSON.stringify(username)} must be non-empty without spaces, ':' or '#'`);
}

/** One password-file line (no trailing newline). `salt` only for reproducible tests. */
export function mosquittoPasswordLine(username: string, password: string, salt: Buffer = randomBytes(SALT_LEN)): string {
  checkUsername(username);
  if (!password || /[\r\n]/.test(password)) throw new Error('mosquitto password must be non-empty and on one line');
  const hash = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, ITERATIONS, HASH_LEN, 'sha512');
  return `${username}:$7$${ITERATIONS}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * ACL block of one device (username = device id). The up kinds are listed one by one, not as
 * `up/+`, so a device cannot invent topic names (each one retained would stay in the broker's
 * memory). Mosquitto's ACL cannot refuse the retain flag, so unlike the embedded broker it lets
 * a device retain a message on any of these five topics: bounded (five per device, each at most
 * the listener's max packet size), not unbounded. `down/#` on the read side covers both
 * `down/+` and exact down topics; Mosquitto checks subscriptions and every delivery against it.
 */
export function mosquittoAclLines(deviceId: string): string[] {
  if (!isDeviceId(deviceId)) throw new Error(`invalid device id ${JSON.stringify(deviceId)}`);
  const root = deviceRoot(deviceId);
  return [
    `user ${deviceId}`,
    `topic write ${topics.deviceAvailability(deviceId)}`,
    ...upKinds.map((k) => `topic write ${topics.up(deviceId, k)}`),
    `topic read ${root}/down/#`,
    `topic read ${gatewayAvailabilityTopic}`,
  ];
}

/** ACL block of the gateway's own client: everything under the prefix. */
export function mosquittoGatewayAcl(username: string): string[] {
  checkUsername(username);
  return [`user ${username}`, `topic readwrite ${PREFIX}/#`];
}

/** ACL block of the optional operator/monitor user: everything, `$SYS` included. */
export function mosquittoAdminAcl(username: string): string[] {
  checkUsername(username);
  return [`user ${username}`, 'topic readwrite #', 'topic read $SYS/#'];
}

/** A whole ACL file: gateway, optional admin, then one block per device, blocks separated by blank lines. */
export function mosquittoAclFile(o: { gatewayUsername: string; adminUsername?: string; deviceIds: string[] }): string {
  const blocks = [mosquittoGatewayAcl(o.gatewayUsername)];
  if (o.adminUsername) blocks.push(mosquittoAdminAcl(o.adminUsername));
  for (const id of o.deviceIds) blocks.push(mosquittoAclLines(id));
  return `${blocks.map((b) => b.join('\n')).join('\n\n')}\n`;
}

export interface MosquittoConfOptions {
  port: number;
  /** Bind address; default all interfaces. */
  host?: string;
  passwordFile: string;
  aclFile: string;
  /** TLS listener (PEM file paths). */
  tls?: { port: number; cert: string; key: string; ca?: string; requireClientCert?: boolean };
  /**
   * Client id := username, so one device cannot take over another's session by reusing its
   * client id (the embedded broker refuses such clients instead). Default true.
   */
  useUsernameAsClientId?: boolean;
  /** Keep retained messages and sessions on disk in this folder; default: in memory only. */
  persistenceDir?: string;
  /** The user to drop privileges to when started as root (Mosquitto's default is `mosquitto`). */
  user?: string;
  /**
   * `max_packet_size`: a client sending a larger packet is disconnected (Mosquitto's default is
   * no limit). Default 4 MiB, like the embedded broker's `broker.maxPacketBytes`.
   */
  maxPacketBytes?: number;
}

/** A mosquitto.conf enforcing authentication and the ACL on every listener. */
export function mosquittoConfig(o: MosquittoConfOptions): string {
  const bind = o.host ? ` ${o.host}` : '';
  const lines = [
    '# Generated by Portier (gateway/broker/mosquitto.ts).',
    'per_listener_settings false',
    'allow_anonymous false',
    `password_file ${o.passwordFile}`,
    `acl_file ${o.aclFile}`,
    `use_username_as_clientid ${o.useUsernameAsClientId === false ? 'false' : 'true'}`,
    `max_packet_size ${o.maxPacketBytes ?? 4 * 1024 * 1024}`,
    o.persistenceDir ? `persistence true\npersistence_location ${o.persistenceDir.endsWith('/') ? o.persistenceDir : `${o.persistenceDir}/`}` : 'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
  ];
  if (o.user) lines.push(`user ${o.user}`);
  lines.push('', `listener ${o.port}${bind}`, 'protocol mqtt');
  if (o.tls) {
    lines.push('', `listener ${o.tls.port}${bind}`, 'protocol mqtt', `certfile ${o.tls.cert}`, `keyfile ${o.tls.key}`);
    if (o.tls.ca) lines.push(`cafile ${o.tls.ca}`);
    if (o.tls.requireClientCert) lines.push('require_certificate true');
  }
  return `${lines.join('\n')}\n`;
}
