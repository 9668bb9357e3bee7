/**
 * Local enrolment: photos -> one quality-checked template each -> encrypted store + gallery.
 * A photo without exactly one usable face is refused with the reason; nothing is stored for a
 * person unless every photo passed, so a bad upload never leaves half an enrolment behind.
 */
import type { VisionEngine } from '../core/vision/engine.ts';
import type { Gallery } from './gallery/gallery.ts';
import type { DeviceStore } from './store/store.ts';
import type { PersonRecord } from './store/persons.ts';

export class EnrolmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnrolmentError';
  }
}

export interface EnrolDeps {
  engine: VisionEngine;
  store: DeviceStore;
  gallery: Gallery;
}

/** Embedding of the single good face in a photo, or an EnrolmentError saying what is wrong. */
export async function enrolmentEmbedding(engine: VisionEngine, photo: Uint8Array, label: string): Promise<Float32Array> {
  let a;
  try {
    a = await engine.analyzeImage(photo, { embed: 'passing', liveness: false });
  } catch (err) {
    throw new EnrolmentError(`${label}: ${(err as Error).message}`);
  }
  if (a.faces.length === 0) throw new EnrolmentError(`${label}: no face found`);
  if (a.faces.length > 1) throw new EnrolmentError(`${label}: ${a.faces.length} faces found, need exactly one`);
  const f = a.faces[0];
  if (!f.quality.ok || !f.embedding) throw new EnrolmentError(`${label}: face rejected (${f.quality.reasons.join(', ')})`);
  return f.embedding;
}

export async function enrolPerson(deps: EnrolDeps, person: PersonRecord, photos: { label: string; data: Uint8Array }[]): Promise<number> {
  if (!photos.length) throw new EnrolmentError(`${person.id}: no photos`);
  const embeddings: Float32Array[] = [];
  for (const p of photos) embeddings.push(await enrolmentEmbedding(deps.engine, p.data, p.label));
  const { store, gallery } = deps;
  store.db.transaction(() => {
    store.persons.upsert(person);
    store.templates.removePerson(person.id);
    store.faceImages.removePerson(person.id);
    for (const e of embeddings) store.templates.add(person.id, e);
    if (store.config.storeFaceImages) for (const p of photos) store.faceImages.add(person.id, p.data);
  })();
  gallery.setPerson(person.id, embeddings);
  return embeddings.length;
}
