/**
 * Who may log in to the broker. The embedded broker asks one `verify(username, password)`; this
 * module builds it from the three kinds of user: the gateway's own client and the optional
 * admin (both from configuration, compared in constant time) and the devices (username = device
 * id, password checked against the scrypt hash in the gateway's device table).
 */
import { safeEqual } from '../crypto/safe-equal.ts';
import type { BrokerPrincipal } from './acl.ts';
import { verifyBrokerPassword } from './passwords.ts';
import { isDeviceId } from './topics.ts';

export interface BrokerCredentials {
  /** The principal for a correct username/password, or null. May reject on a store error. */
  verify(username: string, password: string): Promise<BrokerPrincipal | null>;
}

export interface StaticUser {
  username: string;
  password: string;
}

export interface CredentialSources {
  /** The gateway's own MQTT client. */
  gateway?: StaticUser;
  /** Optional operator/monitor user with every right on the broker. */
  admin?: StaticUser;
  /** The stored broker password hash of an active device, or null when unknown or revoked. */
  deviceHash(deviceId: string): Promise<string | null> | string | null;
}

// An empty configured or offered password never matches, even an empty one.
const sameSecret = (a: string, b: string) => a.length > 0 && b.length > 0 && safeEqual(a, b);

export function createBrokerCredentials(src: CredentialSources): BrokerCredentials {
  return {
    async verify(username, password) {
      // The configured users own their names: a device provisioned under the same id never
      // logs in as itself, let alone as them.
      if (src.gateway && username === src.gateway.username) return sameSecret(password, src.gateway.password) ? { kind: 'gateway' } : null;
      if (src.admin && username === src.admin.username) return sameSecret(password, src.admin.password) ? { kind: 'admin' } : null;
      // Device ids are not secrets (they are in every topic), so an unknown id may answer faster.
      if (!isDeviceId(username) || !password) return null;
      const hash = await src.deviceHash(username);
      if (!hash) return null;
      return (await verifyBrokerPassword(password, hash)) ? { kind: 'device', deviceId: username } : null;
    },
  };
}
