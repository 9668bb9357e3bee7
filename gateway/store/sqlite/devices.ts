/**
 * Devices: identity (keys, credential hashes), sync state (down sequence, cursor, snapshot flag)
 * and the last status. nextDownSeq commits before it returns (synchronous=FULL), so a gateway
 * killed right after signing a message never reuses that sequence number after restart.
 */
import type Database from 'better-sqlite3';
import { slugIdPattern } from '../schemas.ts';
import { StoreError, type DeviceCreate, type DevicePatch, type DeviceRecord, type DevicesRepo, type RegisterLog } from '../types.ts';
import { isUniqueViolation } from './common.ts';

interface Row {
  id: string;
  name: string;
  door_id: string | null;
  broker_password_hash: string | null;
  join_secret_hash: string | null;
  sign_public_key: string | null;
  seal_public_key: string | null;
  down_seq: number;
  sync_cursor: number | null;
  last_seen: number | null;
  status_json: string | null;
  online: number;
  snapshot_required: number;
  created_at: number;
}

const fromRow = (r: Row): DeviceRecord => ({
  id: r.id,
  name: r.name,
  doorId: r.door_id,
  brokerPasswordHash: r.broker_password_hash,
  joinSecretHash: r.join_secret_hash,
  signPublicKey: r.sign_public_key,
  sealPublicKey: r.seal_public_key,
  downSeq: r.down_seq,
  cursor: r.sync_cursor,
  lastSeen: r.last_seen,
  status: r.status_json === null ? null : (JSON.parse(r.status_json) as Record<string, unknown>),
  online: r.online === 1,
  snapshotRequired: r.snapshot_required === 1,
  createdAt: r.created_at,
});

/** Record field -> column, with the conversion of the value. */
const columns: Record<keyof DevicePatch, [string, (v: unknown) => unknown]> = {
  name: ['name', (v) => String(v)],
  doorId: ['door_id', (v) => v ?? null],
  brokerPasswordHash: ['broker_password_hash', (v) => v ?? null],
  joinSecretHash: ['join_secret_hash', (v) => v ?? null],
  signPublicKey: ['sign_public_key', (v) => v ?? null],
  sealPublicKey: ['seal_public_key', (v) => v ?? null],
  cursor: ['sync_cursor', (v) => v ?? null],
  lastSeen: ['last_seen', (v) => v ?? null],
  status: ['status_json', (v) => (v === null || v === undefined ? null : JSON.stringify(v))],
  online: ['online', (v) => (v ? 1 : 0)],
  snapshotRequired: ['snapshot_required', (v) => (v ? 1 : 0)],
};

export function createDevicesRepo(db: Database.Database, now: () => number, register?: RegisterLog): DevicesRepo {
  const getStmt = db.prepare('SELECT * FROM devices WHERE id = ?');
  const listStmt = db.prepare('SELECT * FROM devices ORDER BY id');
  const insert = db.prepare(`
    INSERT INTO devices (id, name, door_id, broker_password_hash, join_secret_hash, sign_public_key, seal_public_key, down_seq, online, snapshot_required, created_at)
    VALUES (@id, @name, @doorId, @brokerPasswordHash, @joinSecretHash, @signPublicKey, @sealPublicKey, 0, 0, 1, @now)`);
  const del = db.prepare('DELETE FROM devices WHERE id = ?');
  const bump = db.prepare('UPDATE devices SET down_seq = down_seq + 1 WHERE id = ?');
  const readSeq = db.prepare('SELECT down_seq FROM devices WHERE id = ?').pluck();
  const doorExists = db.prepare('SELECT 1 FROM doors WHERE id = ?').pluck();

  const get = (id: string): DeviceRecord => {
    const r = getStmt.get(id) as Row | undefined;
    if (!r) throw new StoreError('not_found', `device ${id} does not exist`);
    return fromRow(r);
  };
  const checkDoor = (doorId: string | null | undefined) => {
    if (doorId && !doorExists.get(doorId)) throw new StoreError('invalid', `door ${doorId} does not exist`, [{ path: 'doorId', message: `door "${doorId}" does not exist` }]);
  };

  const update = db.transaction((id: string, patch: DevicePatch): DeviceRecord => {
    const cur = get(id);
    const sets: string[] = [];
    const args: unknown[] = [];
    for (const [field, value] of Object.entries(patch) as [keyof DevicePatch, unknown][]) {
      if (value === undefined) continue;
      const col = columns[field];
      if (!col) throw new StoreError('invalid', `device field ${field} cannot be changed`);
      sets.push(`${col[0]} = ?`);
      args.push(col[1](value));
    }
    if (patch.doorId !== undefined && patch.doorId !== cur.doorId) {
      checkDoor(patch.doorId);
      // Another door means another need-to-know set: the next sync must replace the device's register.
      if (patch.snapshotRequired === undefined) sets.push('snapshot_required = 1');
    }
    // Moving the head is what makes the device ask (notify compares heads): its policy changed.
    if ((patch.doorId !== undefined && patch.doorId !== cur.doorId) || (patch.name !== undefined && patch.name !== cur.name)) register?.touch('policy', id);
    if (sets.length) db.prepare(`UPDATE devices SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
    return get(id);
  });

  const nextDownSeq = db.transaction((id: string): number => {
    if (bump.run(id).changes === 0) throw new StoreError('not_found', `device ${id} does not exist`);
    return readSeq.get(id) as number;
  });

  return {
    get: (id) => {
      const r = getStmt.get(id) as Row | undefined;
      return r && fromRow(r);
    },
    list: () => (listStmt.all() as Row[]).map(fromRow),
    create(rec: DeviceCreate) {
      if (!slugIdPattern.test(rec.id ?? '')) {
        throw new StoreError('invalid', `device id "${rec.id}" must match ${slugIdPattern}`, [{ path: 'id', message: `must match ${slugIdPattern}` }]);
      }
      checkDoor(rec.doorId);
      try {
        insert.run({
          id: rec.id,
          name: rec.name ?? rec.id,
          doorId: rec.doorId ?? null,
          brokerPasswordHash: rec.brokerPasswordHash ?? null,
          joinSecretHash: rec.joinSecretHash ?? null,
          signPublicKey: rec.signPublicKey ?? null,
          sealPublicKey: rec.sealPublicKey ?? null,
          now: now(),
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new StoreError('conflict', `device ${rec.id} already exists`, [{ path: 'id', message: 'taken' }]);
        throw err;
      }
      return get(rec.id);
    },
    update: (id, patch) => update(id, patch),
    remove: (id) => del.run(id).changes > 0,
    nextDownSeq: (id) => nextDownSeq(id),
    setKeys: (id, signPublicKey, sealPublicKey) => update(id, { signPublicKey, sealPublicKey }),
  };
}
