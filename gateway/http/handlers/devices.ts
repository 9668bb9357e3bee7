/**
 * /api/devices: provisioning and commands are the sync layer's (injected); this validates, checks
 * the device and person exist, and reports the outcome. Every command is audited with its result.
 */
import { z } from 'zod';
import { problemsOf, slugIdPattern } from '../../store/schemas.ts';
import { StoreError } from '../../store/types.ts';
import { invalid } from '../errors.ts';
import { deviceView } from '../present.ts';
import type { Handler, Reply, RequestContext } from '../router.ts';
import type { CommandResult, DeviceCommand } from '../types.ts';

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw invalid(problemsOf(r.error));
  return r.data;
}

const device = (ctx: RequestContext) => {
  const d = ctx.services.store.devices.get(ctx.params.id);
  if (!d) throw new StoreError('not_found', `device ${ctx.params.id} does not exist`);
  return d;
};

export const listDevices: Handler = (ctx) => {
  const { store } = ctx.services;
  const head = store.register.head();
  return { status: 200, body: { registerHead: head, items: store.devices.list().map((d) => deviceView(d, head)) } };
};

export const getDevice: Handler = (ctx) => ({ status: 200, body: deviceView(device(ctx), ctx.services.store.register.head()) });

const provisionSchema = z.strictObject({
  id: z.string().regex(slugIdPattern, 'lower-case letters, digits, _ and - (max 63), starting with a letter or digit'),
  name: z.string().trim().min(1).max(200).optional(),
  doorId: z.string().regex(slugIdPattern, 'not a door id').nullable().optional(),
});

export const provisionDevice: Handler = async (ctx) => {
  const v = parse(provisionSchema, await ctx.json());
  const { store } = ctx.services;
  if (v.doorId && !store.doors.get(v.doorId)) throw invalid([{ path: 'doorId', message: `door "${v.doorId}" does not exist` }]);
  if (store.devices.get(v.id)) throw new StoreError('conflict', `device ${v.id} is already provisioned`);
  const r = await ctx.services.provision(v.id, { name: v.name, doorId: v.doorId ?? null });
  return {
    status: 201,
    body: { ...r, deviceId: v.id },
    // Never the bundle: it holds the join secret.
    audit: { target: v.id, deviceId: v.id, door: v.doorId ?? null, details: { name: v.name ?? v.id, doorId: v.doorId ?? null } },
  };
};

const patchSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  doorId: z.string().regex(slugIdPattern, 'not a door id').nullable().optional(),
});

export const updateDevice: Handler = async (ctx) => {
  const v = parse(patchSchema, await ctx.json());
  const before = device(ctx);
  const d = ctx.services.store.devices.update(before.id, v);
  return {
    status: 200,
    body: deviceView(d, ctx.services.store.register.head()),
    audit: { deviceId: d.id, details: { ...v, previousDoorId: before.doorId } },
    notifyDevices: before.doorId !== d.doorId,
  };
};

export const deleteDevice: Handler = async (ctx) => {
  const d = device(ctx);
  const { decommission, store } = ctx.services;
  const removed = decommission ? await decommission(d.id) : store.devices.remove(d.id);
  return { status: 200, body: { deleted: removed, id: d.id }, audit: { deviceId: d.id } };
};

function commandReply(deviceId: string, r: CommandResult, details: Record<string, unknown>): Reply {
  const audit = { deviceId, details: { ...details, ok: r.ok, ...(r.error ? { error: r.error } : {}) } };
  if (r.ok) return { status: 200, body: { ok: true, result: r.result ?? null }, audit };
  return { status: 502, body: { ok: false, error: 'command_failed', message: r.error ?? 'the device did not carry out the command' }, audit };
}

const run = async (ctx: RequestContext, cmd: DeviceCommand, args: { reason?: string; personId?: string }) =>
  ctx.services.command(ctx.params.id, cmd, args, ctx.principal!.user);

const unlockSchema = z.strictObject({ reason: z.string().trim().min(3, 'say why (at least 3 characters)').max(500) });

export const unlockDevice: Handler = async (ctx) => {
  const { reason } = parse(unlockSchema, await ctx.json());
  const d = device(ctx);
  return commandReply(d.id, await run(ctx, 'unlock', { reason }), { reason, door: d.doorId });
};

export const resyncDevice: Handler = async (ctx) => {
  const d = device(ctx);
  return commandReply(d.id, await run(ctx, 'resync', {}), {});
};

const enrolHereSchema = z.strictObject({ personId: z.string().min(1).max(128) });

export const enrolHere: Handler = async (ctx) => {
  const { personId } = parse(enrolHereSchema, await ctx.json());
  const d = device(ctx);
  if (!ctx.services.store.people.get(personId)) throw invalid([{ path: 'personId', message: `person ${personId} does not exist` }]);
  const reply = commandReply(d.id, await run(ctx, 'enrol-here', { personId }), { personId });
  reply.audit!.personId = personId;
  return reply;
};
