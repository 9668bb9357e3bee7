/**
 * Enrolment on the gateway, free of HTTP so the sync layer reuses it for templates captured at a
 * door (enrol-here): photo -> the same vision engine as the devices -> per-photo feedback (face
 * count, box, quality reasons, duplicate warning) -> encrypted template (+ photo when kept).
 * Unlike the device's all-or-nothing enrolment, each photo stands alone: the admin sees which
 * ones were taken and why the others were not.
 *
 * With the second embedder (gateway.ts opens it like the device: when its model is installed),
 * each accepted photo also stores the second model's template of the same aligned crop, which
 * the sync sends to the doors that take it.
 */
import type { AnalyzeOptions, Analysis } from '../../core/vision/engine.ts';
import { createLogger } from '../../core/log/logger.ts';
import type { GatewayStore, TemplateMeta } from '../store/types.ts';
import { StoreError } from '../store/types.ts';
import { type GatewayEnrolConfig, gatewayEnrolConfigSchema } from './config.ts';
import { TemplateIndex } from './index.ts';

const log = createLogger('enrol');

/** What enrolment needs of the vision engine (core/vision VisionEngine satisfies it). */
export interface EnrolEngine {
  analyzeImage(buf: Uint8Array, opts?: AnalyzeOptions): Promise<Analysis>;
}

/** Quality reasons from the engine plus the photo-level ones. */
export type PhotoReason = 'too_small' | 'blurry' | 'too_dark' | 'too_bright' | 'pose' | 'multiple_faces' | 'no_face' | 'not_an_image';

export interface DuplicateOf {
  personId: string;
  name: string;
  score: number;
}

export interface PhotoFeedback {
  name: string;
  /**
   * Size of the image as analysed (null when it could not be decoded). Photos larger than the
   * engine's decodeMaxSide are downscaled first, so this can be smaller than the file's own size:
   * `box` is in these pixels, and a UI drawing it over the photo scales from them.
   */
  width: number | null;
  height: number | null;
  /** Faces found in the photo. */
  faces: number;
  /** Box of the face that was (or would have been) enrolled, [x1, y1, x2, y2] in pixels of the analysed image (width × height). */
  box: [number, number, number, number] | null;
  quality: { ok: boolean; reasons: PhotoReason[] };
  accepted: boolean;
  /** Why a photo was not taken: its quality, a face of another person, or the template limit. */
  refusal: 'quality' | 'duplicate' | 'limit' | null;
  duplicateOf: DuplicateOf | null;
  templateId: string | null;
}

/** A type alias (not an interface) so it also passes where a plain record is expected. */
export type TemplateOutcome = {
  accepted: boolean;
  refusal: 'duplicate' | 'limit' | null;
  duplicateOf: DuplicateOf | null;
  template: TemplateMeta | null;
};

export interface AddTemplateOptions {
  /** Store even when the face matches another person (onDuplicate=refuse). */
  force?: boolean;
  quality?: number | null;
  /** The second embedding's template of the same face, stored in the same row. */
  second?: Float32Array | null;
}

export interface Enrolment {
  readonly config: GatewayEnrolConfig;
  /** Templates in the duplicate index. */
  readonly size: number;
  /** Analyse one photo without storing anything. */
  analyzePhoto(data: Uint8Array, name: string): Promise<{ feedback: PhotoFeedback; embedding: Float32Array | null; second: Float32Array | null; score: number | null }>;
  /** Analyse and store each photo that passes; one feedback per photo, in order. */
  enrolPhotos(personId: string, photos: { name: string; data: Uint8Array; contentType?: string | null }[], opts?: { force?: boolean; source?: string }): Promise<PhotoFeedback[]>;
  /** Store a template made elsewhere (enrol-here from a device) with the same duplicate check. */
  addTemplate(personId: string, embedding: Float32Array, source: string, opts?: AddTemplateOptions): TemplateOutcome;
  removeTemplate(templateId: string): boolean;
  /** Deletes the person everywhere (store, templates, photos; register tombstone) and from the index. */
  removePerson(personId: string): boolean;
  /** Best match among OTHER people at or above the threshold, or null. */
  duplicateOf(embedding: Float32Array, personId: string): DuplicateOf | null;
  /** Called after every stored or removed template (devices need the change); returns an unsubscribe. */
  onChange(listener: () => void): () => void;
}

export interface EnrolmentDeps {
  store: GatewayStore;
  engine: EnrolEngine;
  /** The second embedder (core/vision/second-embedder.ts), when installed: each accepted photo gets a second template. */
  secondEmbedder?: { embed(aligned: Float32Array): Promise<Float32Array> };
  config?: Partial<GatewayEnrolConfig>;
  /** Counts each photo/template outcome: enrolled, rejected (quality), duplicate, limit. */
  metrics?: { recordEnrolment?(result: string): void };
}

const round = (v: number) => Math.round(v);

/** JPEG, PNG or WebP by magic number (multipart content types are whatever the browser says). */
export function sniffImageType(b: Uint8Array): string | null {
  if (b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'image/png';
  if (b.length > 12 && Buffer.from(b.subarray(0, 4)).toString('latin1') === 'RIFF' && Buffer.from(b.subarray(8, 12)).toString('latin1') === 'WEBP') return 'image/webp';
  return null;
}

export function createEnrolment(deps: EnrolmentDeps): Enrolment {
  const { store, engine, secondEmbedder: second } = deps;
  const config = gatewayEnrolConfigSchema.parse(deps.config ?? {});
  const index = new TemplateIndex();
  for (const t of store.templates.all()) index.add(t.id, t.personId, t.embedding);
  log.info('duplicate index loaded', { templates: index.size });
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const l of listeners) {
      try {
        l();
      } catch (err) {
        log.error('enrolment change listener failed', { error: (err as Error).message });
      }
    }
  };
  const count = (result: string) => deps.metrics?.recordEnrolment?.(result);

  // One photo at a time through the engine: it already uses every core per image.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  };

  function duplicateOf(embedding: Float32Array, personId: string): DuplicateOf | null {
    for (;;) {
      const m = index.best(embedding, personId);
      if (!m || m.score < config.duplicateThreshold) return null;
      const owner = store.people.get(m.personId);
      // The index can lag a change made without it (e.g. a person deleted by another module): drop the stale row and look again.
      if (!owner || !store.templates.get(m.templateId)) {
        index.remove(m.templateId);
        continue;
      }
      return { personId: owner.id, name: owner.name, score: Math.round(m.score * 1000) / 1000 };
    }
  }

  function addTemplate(personId: string, embedding: Float32Array, source: string, opts: AddTemplateOptions = {}): TemplateOutcome {
    if (!store.people.get(personId)) throw new StoreError('not_found', `person ${personId} does not exist`);
    const dup = duplicateOf(embedding, personId);
    if (dup && config.onDuplicate === 'refuse' && !opts.force) {
      log.warn('enrolment refused: the face matches another person', { personId, duplicateOf: dup.personId, score: dup.score, source });
      count('duplicate');
      return { accepted: false, refusal: 'duplicate', duplicateOf: dup, template: null };
    }
    if (store.templates.meta(personId).length >= config.maxTemplatesPerPerson) {
      count('limit');
      return { accepted: false, refusal: 'limit', duplicateOf: dup, template: null };
    }
    const template = store.templates.add(personId, embedding, { source, quality: opts.quality ?? null, second: opts.second ?? null });
    index.add(template.id, personId, embedding);
    count('enrolled');
    changed();
    if (dup) log.warn('template stored although the face matches another person', { personId, duplicateOf: dup.personId, score: dup.score, source });
    return { accepted: true, refusal: null, duplicateOf: dup, template };
  }

  async function analyzePhoto(data: Uint8Array, name: string) {
    const feedback: PhotoFeedback = { name, width: null, height: null, faces: 0, box: null, quality: { ok: false, reasons: [] }, accepted: false, refusal: 'quality', duplicateOf: null, templateId: null };
    let a: Analysis;
    try {
      a = await serial(() => engine.analyzeImage(data, { embed: 'passing', liveness: false, keepAligned: second !== undefined }));
    } catch (err) {
      if ((err as Error)?.name !== 'ImageDecodeError') throw err;
      feedback.quality.reasons = ['not_an_image'];
      return { feedback, embedding: null, second: null, score: null };
    }
    feedback.width = a.width;
    feedback.height = a.height;
    feedback.faces = a.faces.length;
    if (a.faces.length === 0) {
      feedback.quality.reasons = ['no_face'];
      return { feedback, embedding: null, second: null, score: null };
    }
    const face = a.faces[a.primary >= 0 ? a.primary : 0];
    feedback.box = face.box.map(round) as PhotoFeedback['box'];
    const reasons = new Set<PhotoReason>(face.quality.reasons);
    // Enrolment always wants exactly one face, whatever the door's allowMultipleFaces says.
    if (a.faces.length > 1) reasons.add('multiple_faces');
    feedback.quality = { ok: reasons.size === 0, reasons: [...reasons] };
    const embedding = feedback.quality.ok && face.embedding ? face.embedding : null;
    if (feedback.quality.ok && !embedding) throw new Error('vision engine passed a face without an embedding');
    // The same aligned crop as the main embedding; only for a photo that will be offered for storage.
    const aligned = face.aligned;
    const secondEmb = embedding && second && aligned ? await serial(() => second.embed(aligned)) : null;
    return { feedback, embedding, second: secondEmb, score: face.score };
  }

  return {
    config,
    get size() {
      return index.size;
    },
    analyzePhoto,
    async enrolPhotos(personId, photos, opts = {}) {
      if (!store.people.get(personId)) throw new StoreError('not_found', `person ${personId} does not exist`);
      const out: PhotoFeedback[] = [];
      for (const p of photos) {
        const { feedback, embedding, second: secondEmb, score } = await analyzePhoto(p.data, p.name);
        if (!embedding) count('rejected');
        else {
          // Re-checked after the await: the person may have been deleted meanwhile.
          const r = addTemplate(personId, embedding, opts.source ?? 'upload', {
            force: opts.force,
            quality: score === null ? null : Math.round(score * 1000) / 1000,
            second: secondEmb,
          });
          feedback.accepted = r.accepted;
          feedback.refusal = r.refusal;
          feedback.duplicateOf = r.duplicateOf;
          feedback.templateId = r.template?.id ?? null;
          if (r.template && store.config.keepPhotos) {
            store.photos.add(personId, p.data, { templateId: r.template.id, contentType: sniffImageType(p.data) ?? p.contentType ?? null });
          }
        }
        out.push(feedback);
      }
      return out;
    },
    addTemplate,
    removeTemplate(templateId) {
      index.remove(templateId);
      const removed = store.templates.remove(templateId);
      if (removed) changed();
      return removed;
    },
    removePerson(personId) {
      index.removePerson(personId);
      const removed = store.people.remove(personId);
      if (removed) changed();
      return removed;
    },
    duplicateOf,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
