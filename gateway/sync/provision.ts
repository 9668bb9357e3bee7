/**
 * Provisioning a device on the gateway: a device record with its door, a fresh broker password
 * (only its scrypt hash is kept) and a one-time join secret (only its digest is kept), returned
 * as a bundle for `portier join` on the device, plus the Mosquitto password-file line and ACL
 * block for deployments on an external Mosquitto.
 */
import { randomBytes } from 'node:crypto';
import { encodeBundle, joinKey } from '../../core/sync/bundle.ts';
import { deviceIdPattern } from '../../core/sync/contract.ts';
import { publicKeys, type KeySet } from '../../core/sync/keys.ts';
import { generateBrokerPassword, hashBrokerPassword } from '../broker/passwords.ts';
import { mosquittoAclLines, mosquittoPasswordLine } from '../broker/mosquitto.ts';
import { StoreError, type GatewayStore } from '../store/types.ts';

export interface ProvisionResult {
  deviceId: string;
  bundle: string;
  mosquitto: { passwordLine: string; aclLines: string[] };
}

export interface ProvisionOptions {
  name?: string;
  doorId?: string | null;
  /** Replace the credentials and keys of an existing device (e.g. after a stolen or replaced board). */
  reprovision?: boolean;
}

export async function provisionDevice(store: GatewayStore, keys: KeySet, brokerUrl: string, deviceId: string, o: ProvisionOptions = {}): Promise<ProvisionResult> {
  if (!deviceIdPattern.test(deviceId)) throw new StoreError('invalid', `device id ${JSON.stringify(deviceId)} must match ${deviceIdPattern}`);
  if (o.doorId && !store.doors.get(o.doorId)) store.doors.create({ id: o.doorId, name: o.doorId });
  const password = generateBrokerPassword();
  const joinSecret = randomBytes(32).toString('base64url');
  const brokerPasswordHash = await hashBrokerPassword(password);
  const existing = store.devices.get(deviceId);
  if (existing && !o.reprovision) throw new StoreError('conflict', `device ${deviceId} is already provisioned; reprovision it to issue new credentials`);
  store.transaction(() => {
    if (!existing) store.devices.create({ id: deviceId, name: o.name ?? deviceId, doorId: o.doorId ?? null, brokerPasswordHash, joinSecretHash: joinKey(joinSecret) });
    else {
      // New credentials revoke the old ones at once; the old keys stop being trusted and the
      // device has to join again with the new bundle.
      store.devices.update(deviceId, { name: o.name ?? existing.name, doorId: o.doorId ?? existing.doorId, brokerPasswordHash, joinSecretHash: joinKey(joinSecret), signPublicKey: null, sealPublicKey: null, snapshotRequired: true });
    }
  });
  const bundle = encodeBundle({ v: 1, deviceId, broker: { url: brokerUrl, username: deviceId, password }, gateway: publicKeys(keys), joinSecret });
  return { deviceId, bundle, mosquitto: { passwordLine: mosquittoPasswordLine(deviceId, password), aclLines: mosquittoAclLines(deviceId) } };
}
