/** /api/people: the register of people, their templates and enrolment from photos. */
import { z } from 'zod';
import { problemsOf } from '../../store/schemas.ts';
import { StoreError } from '../../store/types.ts';
import { mediaType } from '../body.ts';
import { ApiError, invalid } from '../errors.ts';
import { parseMultipart } from '../multipart.ts';
import { personView, templateView } from '../present.ts';
import { QueryReader } from '../query.ts';
import type { Handler, RequestContext } from '../router.ts';

const view = (ctx: RequestContext, id: string) => {
  const { store } = ctx.services;
  const p = store.people.get(id);
  if (!p) throw new StoreError('not_found', `person ${id} does not exist`);
  return personView(p, store.templates.counts([id])[id] ?? 0);
};

export const listPeople: Handler = (ctx) => {
  const q = new QueryReader(ctx.url.searchParams);
  const filter = {
    q: q.str('q'),
    group: q.str('group', 63),
    active: q.bool('active'),
    expiringBefore: q.time('expiringBefore'),
    limit: q.int('limit', 1, 1000) ?? 50,
    offset: q.int('offset', 0, 10_000_000) ?? 0,
  };
  q.done();
  const { store } = ctx.services;
  const page = store.people.list(filter);
  const counts = store.templates.counts(page.items.map((p) => p.id));
  return { status: 200, body: { ...page, items: page.items.map((p) => personView(p, counts[p.id] ?? 0)) } };
};

export const getPerson: Handler = (ctx) => {
  const { store } = ctx.services;
  const body = view(ctx, ctx.params.id);
  return { status: 200, body: { ...body, templateList: store.templates.meta(ctx.params.id).map(templateView), photos: store.photos.count(ctx.params.id) } };
};

export const createPerson: Handler = async (ctx) => {
  const p = ctx.services.store.people.create((await ctx.json()) as never);
  return { status: 201, body: personView(p, 0), audit: { target: p.id, personId: p.id, details: { name: p.name } } };
};

export const updatePerson: Handler = async (ctx) => {
  const patch = (await ctx.json()) as Record<string, unknown>;
  const p = ctx.services.store.people.update(ctx.params.id, patch as never);
  return { status: 200, body: view(ctx, p.id), audit: { personId: p.id, details: { fields: patch && typeof patch === 'object' ? Object.keys(patch) : [] } } };
};

export const setActive =
  (active: boolean): Handler =>
  (ctx) => {
    const p = ctx.services.store.people.update(ctx.params.id, { active });
    return { status: 200, body: view(ctx, p.id), audit: { personId: p.id } };
  };

export const deletePerson: Handler = (ctx) => {
  const { store, enrolment } = ctx.services;
  const id = ctx.params.id;
  const p = store.people.get(id);
  if (!p) throw new StoreError('not_found', `person ${id} does not exist`);
  const templates = store.templates.meta(id).length;
  // Through the enrolment so its duplicate index forgets the person too; the store writes the tombstone.
  enrolment.removePerson(id);
  return { status: 200, body: { deleted: true, id, templatesRemoved: templates }, audit: { personId: id, details: { name: p.name, templatesRemoved: templates } } };
};

export const deleteTemplate: Handler = (ctx) => {
  const { store, enrolment } = ctx.services;
  const t = store.templates.get(ctx.params.templateId);
  if (!t || t.personId !== ctx.params.id) throw new StoreError('not_found', `person ${ctx.params.id} has no template ${ctx.params.templateId}`);
  enrolment.removeTemplate(t.id);
  return { status: 200, body: { deleted: true, id: t.id }, audit: { target: `${t.personId}/${t.id}`, personId: t.personId } };
};

const base64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const jsonPhotosSchema = z.strictObject({
  photos: z
    .array(
      z.strictObject({
        name: z.string().max(200).default('photo'),
        // Data URLs as a browser's FileReader makes them are accepted too.
        data: z
          .string()
          .min(1)
          .transform((s) => s.replace(/^data:[^,]*;base64,/, '').replace(/\s+/g, ''))
          .refine((s) => base64.test(s), 'not base64'),
      }),
    )
    .min(1),
  force: z.boolean().default(false),
});

interface Upload {
  photos: { name: string; data: Buffer; contentType: string | null }[];
  force: boolean;
}

async function readPhotos(ctx: RequestContext): Promise<Upload> {
  const type = mediaType(ctx.req);
  const raw = await ctx.body();
  const forceQuery = ['1', 'true'].includes(ctx.url.searchParams.get('force') ?? '');
  if (type === 'multipart/form-data') {
    const parts = parseMultipart(raw, String(ctx.req.headers['content-type']), { maxParts: ctx.services.config.maxPhotosPerRequest + 5 });
    const files = parts.filter((p) => p.filename !== null);
    const forceField = parts.find((p) => p.filename === null && p.name === 'force');
    if (!files.length) throw invalid([{ path: 'photos', message: 'no file parts in the upload' }]);
    return {
      photos: files.map((f, i) => ({ name: f.filename || `photo-${i + 1}`, data: f.data, contentType: f.contentType })),
      force: forceQuery || ['1', 'true', 'on'].includes(forceField?.data.toString('utf8').trim() ?? ''),
    };
  }
  const body = jsonPhotosSchema.safeParse(raw.length ? JSON.parse(raw.toString('utf8')) : {});
  if (!body.success) throw invalid(problemsOf(body.error));
  return { photos: body.data.photos.map((p) => ({ name: p.name, data: Buffer.from(p.data, 'base64'), contentType: null })), force: forceQuery || body.data.force };
}

export const enrolPhotos: Handler = async (ctx) => {
  const { store, enrolment, config } = ctx.services;
  const id = ctx.params.id;
  if (!store.people.get(id)) throw new StoreError('not_found', `person ${id} does not exist`);
  let upload: Upload;
  try {
    upload = await readPhotos(ctx);
  } catch (err) {
    if (err instanceof SyntaxError) throw new ApiError(400, 'invalid_json', `request body is not valid JSON: ${err.message}`);
    throw err;
  }
  if (upload.photos.length > config.maxPhotosPerRequest) {
    throw invalid([{ path: 'photos', message: `at most ${config.maxPhotosPerRequest} photos per request` }]);
  }
  const feedback = await enrolment.enrolPhotos(id, upload.photos, { force: upload.force, source: 'upload' });
  const accepted = feedback.filter((f) => f.accepted).length;
  return {
    status: 200,
    body: { personId: id, accepted, rejected: feedback.length - accepted, templates: store.templates.meta(id).length, photos: feedback },
    audit: {
      personId: id,
      details: { photos: feedback.length, accepted, force: upload.force, duplicates: feedback.filter((f) => f.duplicateOf).map((f) => f.duplicateOf!.personId) },
    },
  };
};
