/**
 * The register log: one row per entity (kind, entity id) carrying the seq of its last change,
 * so "changes after cursor c" is one range scan and an entity changed ten times is sent once.
 * Deletions are tombstones until purged; `purged_up_to` then tells which cursors are too old to
 * be served from the log (they get a snapshot).
 */
import type Database from 'better-sqlite3';
import type { RegisterChange, RegisterKind, RegisterLog } from '../types.ts';

interface Row {
  kind: RegisterKind;
  entity_id: string;
  seq: number;
  deleted: number;
  changed_at: number;
}

export function createRegisterLog(db: Database.Database, now: () => number, retentionMs: number): RegisterLog {
  const bump = db.prepare("UPDATE register_meta SET value = value + 1 WHERE name = 'head'");
  const meta = db.prepare('SELECT value FROM register_meta WHERE name = ?').pluck();
  const setMeta = db.prepare('UPDATE register_meta SET value = ? WHERE name = ?');
  const upsert = db.prepare(`
    INSERT INTO register_log (kind, entity_id, seq, deleted, changed_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted, changed_at = excluded.changed_at`);
  const after = db.prepare('SELECT kind, entity_id, seq, deleted, changed_at FROM register_log WHERE seq > ? ORDER BY seq LIMIT ?');
  const oldTombstones = db.prepare('SELECT max(seq) AS m, count(*) AS n FROM register_log WHERE deleted = 1 AND changed_at < ?');
  const dropTombstones = db.prepare('DELETE FROM register_log WHERE deleted = 1 AND changed_at < ?');

  const touch = db.transaction((kind: RegisterKind, entityId: string, deleted: boolean): number => {
    bump.run();
    const seq = meta.get('head') as number;
    upsert.run(kind, entityId, seq, deleted ? 1 : 0, now());
    return seq;
  });

  const purge = db.transaction((olderThanMs: number) => {
    const cutoff = now() - olderThanMs;
    const { m, n } = oldTombstones.get(cutoff) as { m: number | null; n: number };
    let purgedUpTo = meta.get('purged_up_to') as number;
    if (n > 0 && m !== null) {
      dropTombstones.run(cutoff);
      if (m > purgedUpTo) {
        purgedUpTo = m;
        setMeta.run(m, 'purged_up_to');
      }
    }
    return { purged: n, purgedUpTo };
  });

  return {
    touch(kind, entityId, deleted = false) {
      if (!entityId) throw new Error('register touch needs an entity id');
      return touch(kind, entityId, deleted);
    },
    head: () => meta.get('head') as number,
    changesAfter(cursor, limit) {
      const rows = after.all(Math.max(0, Math.floor(cursor)), Math.max(1, Math.floor(limit))) as Row[];
      return rows.map(
        (r): RegisterChange => ({ kind: r.kind, entityId: r.entity_id, seq: r.seq, deleted: r.deleted === 1, changedAt: r.changed_at }),
      );
    },
    purgedUpTo: () => meta.get('purged_up_to') as number,
    purgeTombstones: (olderThanMs = retentionMs) => purge(olderThanMs),
  };
}
