/**
 * Local enrolment: photos -> one quality-checked template each -> encrypted store + gallery.
 * A photo without exactly one usable face is refused with the reason; nothing is stored for a
 * person unless every photo passed, so a bad upload never leaves half an enrolment behind.
 * With the second embedding loaded (gallery.secondEmbedding), each template row also carries the
 * second model's embedding of the same aligned face.
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
  /** The second embedder (core/vision/second-embedder.ts), when the daemon loaded it. */
  secondEmbedder?: { embed(aligned: Float32Array): Promise<Float32Array> };
}

export interface EnrolmentTemplate {
  embedding: Float32Array;
  /** The second model's embedding of the same aligned crop, when asked for. */
  second?: Float32Array;
}

/** Embedding of the single good face in a photo, or an EnrolmentError saying what is wrong. */
export async function enrolmentEmbedding(engine: VisionEngine, photo: Uint8Array, label: string): Promise<Float32Array> {
  return (await enrolmentTemplate(engine, photo, label)).embedding;
}

/** enrolmentEmbedding, plus the second embedder's template of the same face when given one. */
export async function enrolmentTemplate(engine: VisionEngine, photo: Uint8Array, label: string, second?: EnrolDeps['secondEmbedder']): Promise<EnrolmentTemplate> {
  let a;
  try {
    a = await engine.analyzeImage(photo, { embed: 'passing', liveness: false, keepAligned: second !== undefined });
  } catch (err) {
    throw new EnrolmentError(`${label}: ${(err as Error).message}`);
  }
  if (a.faces.length === 0) throw new EnrolmentError(`${label}: no face found`);
  if (a.faces.length > 1) throw new EnrolmentError(`${label}: ${a.faces.length} faces found, need exactly one`);
  const f = a.faces[0];
  if (!f.quality.ok || !f.embedding) throw new EnrolmentError(`${label}: face rejected (${f.quality.reasons.join(', ')})`);
  return { embedding: f.embedding, second: second && f.aligned ? await second.embed(f.aligned) : undefined };
}

export async function enrolPerson(deps: EnrolDeps, person: PersonRecord, photos: { label: string; data: Uint8Array }[]): Promise<number> {
  if (!photos.length) throw new EnrolmentError(`${person.id}: no photos`);
  const templates: EnrolmentTemplate[] = [];
  for (const p of photos) templates.push(await enrolmentTemplate(deps.engine, p.data, p.label, deps.secondEmbedder));
  const embeddings = templates.map((t) => t.embedding);
  const seconds = templates.flatMap((t) => (t.second ? [t.second] : []));
  const { store, gallery } = deps;
  store.db.transaction(() => {
    store.persons.upsert(person);
    store.templates.removePerson(person.id);
    store.faceImages.removePerson(person.id);
    for (const t of templates) store.templates.add(person.id, t.embedding, t.second);
    if (store.config.storeFaceImages) for (const p of photos) store.faceImages.add(person.id, p.data);
  })();
  gallery.setPerson(person.id, embeddings, seconds);
  return embeddings.length;
}
