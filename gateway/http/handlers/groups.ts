/** /api/groups and /api/doors. */
import { StoreError } from '../../store/types.ts';
import { groupView } from '../present.ts';
import type { Handler, RequestContext } from '../router.ts';

const group = (ctx: RequestContext, id: string) => {
  const { store } = ctx.services;
  const g = store.groups.get(id);
  if (!g) throw new StoreError('not_found', `group ${id} does not exist`);
  return groupView(g, store.groups.members(id).length);
};

export const listGroups: Handler = (ctx) => {
  const { store } = ctx.services;
  return { status: 200, body: { items: store.groups.list().map((g) => groupView(g, store.groups.members(g.id).length)) } };
};
export const getGroup: Handler = (ctx) => ({ status: 200, body: { ...group(ctx, ctx.params.id), memberIds: ctx.services.store.groups.members(ctx.params.id) } });
export const createGroup: Handler = async (ctx) => {
  const g = ctx.services.store.groups.create((await ctx.json()) as never);
  return { status: 201, body: groupView(g, 0), audit: { target: g.id, details: { name: g.name } } };
};
export const updateGroup: Handler = async (ctx) => {
  const patch = (await ctx.json()) as Record<string, unknown>;
  const g = ctx.services.store.groups.update(ctx.params.id, patch as never);
  return { status: 200, body: group(ctx, g.id), audit: { details: { fields: patch && typeof patch === 'object' ? Object.keys(patch) : [] } } };
};
export const deleteGroup: Handler = (ctx) => {
  const { store } = ctx.services;
  const members = store.groups.members(ctx.params.id).length;
  if (!store.groups.remove(ctx.params.id)) throw new StoreError('not_found', `group ${ctx.params.id} does not exist`);
  return { status: 200, body: { deleted: true, id: ctx.params.id, membersUpdated: members }, audit: { details: { membersUpdated: members } } };
};

const doorView = (d: { id: string; name: string; createdAt: number }, devices: string[]) => ({ id: d.id, name: d.name, devices, createdAt: new Date(d.createdAt).toISOString() });
const devicesAt = (ctx: RequestContext) => {
  const by = new Map<string, string[]>();
  for (const d of ctx.services.store.devices.list()) if (d.doorId) by.set(d.doorId, [...(by.get(d.doorId) ?? []), d.id]);
  return by;
};

export const listDoors: Handler = (ctx) => {
  const by = devicesAt(ctx);
  return { status: 200, body: { items: ctx.services.store.doors.list().map((d) => doorView(d, by.get(d.id) ?? [])) } };
};
export const getDoor: Handler = (ctx) => {
  const d = ctx.services.store.doors.get(ctx.params.id);
  if (!d) throw new StoreError('not_found', `door ${ctx.params.id} does not exist`);
  return { status: 200, body: doorView(d, devicesAt(ctx).get(d.id) ?? []) };
};
export const createDoor: Handler = async (ctx) => {
  const d = ctx.services.store.doors.create((await ctx.json()) as never);
  return { status: 201, body: doorView(d, []), audit: { target: d.id, door: d.id, details: { name: d.name } } };
};
export const updateDoor: Handler = async (ctx) => {
  const d = ctx.services.store.doors.update(ctx.params.id, (await ctx.json()) as never);
  return { status: 200, body: doorView(d, devicesAt(ctx).get(d.id) ?? []), audit: { door: d.id, details: { name: d.name } } };
};
export const deleteDoor: Handler = (ctx) => {
  if (!ctx.services.store.doors.remove(ctx.params.id)) throw new StoreError('not_found', `door ${ctx.params.id} does not exist`);
  return { status: 200, body: { deleted: true, id: ctx.params.id }, audit: { door: ctx.params.id } };
};
