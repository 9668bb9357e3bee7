/**
 * Enrolment photos, stored only when `store.storeFaceImages` is on (off by default: then no
 * face image is ever written). Encrypted like templates, with the person id bound in.
 */
import type Database from 'better-sqlite3';
import { openFaceImage, sealFaceImage } from './crypto.ts';

export class FaceImageStore {
  private readonly insert: Database.Statement;
  private readonly byPerson: Database.Statement;
  private readonly del: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly key: Buffer,
  ) {
    this.insert = db.prepare('INSERT INTO face_images (person_id, nonce, tag, data, created_at) VALUES (?, ?, ?, ?, ?)');
    this.byPerson = db.prepare('SELECT nonce, tag, data FROM face_images WHERE person_id = ? ORDER BY id');
    this.del = db.prepare('DELETE FROM face_images WHERE person_id = ?');
  }

  add(personId: string, image: Uint8Array): void {
    const s = sealFaceImage(this.key, personId, image);
    this.insert.run(personId, s.nonce, s.tag, s.data, Date.now());
  }

  /** Decrypted photos of one person; throws if a row fails authentication (wrong key, tampered, moved). */
  list(personId: string): Buffer[] {
    return (this.byPerson.all(personId) as { nonce: Buffer; tag: Buffer; data: Buffer }[]).map((r) => openFaceImage(this.key, personId, r));
  }

  removePerson(personId: string): number {
    return this.del.run(personId).changes;
  }
}
