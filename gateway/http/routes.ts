/**
 * Every route of the gateway API in one table: dispatch, role checks and the README reference
 * (apiReferenceMarkdown) all read it. Auth routes (/api/setup, /api/auth/*, /api/users) are
 * served by gateway/auth; their rows can be passed in as `extra` for the reference.
 */
import { auditStream } from './handlers/audit-stream.ts';
import { exportAuditCsv, searchAudit } from './handlers/audit.ts';
import { deleteDevice, enrolHere, getDevice, listDevices, provisionDevice, resyncDevice, unlockDevice, updateDevice } from './handlers/devices.ts';
import { createDoor, createGroup, deleteDoor, deleteGroup, getDoor, getGroup, listDoors, listGroups, updateDoor, updateGroup } from './handlers/groups.ts';
import { createPerson, deletePerson, deleteTemplate, enrolPhotos, getPerson, listPeople, setActive, updatePerson } from './handlers/people.ts';
import { health, metricsHandler } from './handlers/system.ts';
import type { Route } from './router.ts';

export const routes: Route[] = [
  { method: 'GET', path: '/api/health', role: 'public', description: 'Liveness of the gateway: `{status: "ok", time}`.', handler: health },
  {
    method: 'GET',
    path: '/metrics',
    role: 'public',
    description: 'Prometheus metrics (text format). Requires `Authorization: Bearer <http.metricsToken>` when that is set.',
    handler: metricsHandler,
  },

  {
    method: 'GET',
    path: '/api/people',
    role: 'viewer',
    description: 'List people, sorted by name. Query: `q` (name or employee number contains), `group`, `active` (true/false), `expiringBefore` (time), `limit` (≤1000, default 50), `offset`. Returns `{items, total, limit, offset}`.',
    handler: listPeople,
  },
  {
    method: 'POST',
    path: '/api/people',
    role: 'admin',
    action: 'person.create',
    description: 'Create a person: `{id?, name, employeeNo?, active?, validFrom?, validUntil?, groups?, schedules?}`. Validity bounds are ISO instants with offset or dates; schedules are `{door, days, from, to}`. 201 with the person; 400 `{error: "invalid", problems}` lists every problem.',
    handler: createPerson,
  },
  { method: 'GET', path: '/api/people/:id', role: 'viewer', description: 'One person, with `templateList` (id, source, quality, createdAt; never the embedding) and the number of kept `photos`.', handler: getPerson },
  { method: 'PATCH', path: '/api/people/:id', role: 'admin', action: 'person.update', description: 'Change any of the fields of POST /api/people except id.', handler: updatePerson },
  {
    method: 'DELETE',
    path: '/api/people/:id',
    role: 'admin',
    action: 'person.delete',
    description: 'Delete a person with their templates and photos; devices delete them at their next sync (register tombstone).',
    handler: deletePerson,
  },
  { method: 'POST', path: '/api/people/:id/deactivate', role: 'admin', action: 'person.deactivate', description: 'Refuse the person at every door (templates are kept).', handler: setActive(false) },
  { method: 'POST', path: '/api/people/:id/activate', role: 'admin', action: 'person.activate', description: 'Allow the person again (undoes deactivate).', handler: setActive(true) },
  {
    method: 'POST',
    path: '/api/people/:id/photos',
    role: 'admin',
    action: 'person.enrol',
    body: 'upload',
    description:
      'Enrol from photos: `multipart/form-data` (one or more file parts; optional field `force`) or JSON `{photos: [{name, data: base64}], force?}`. Each photo gets `{name, width, height, faces, box, quality: {ok, reasons}, accepted, refusal, duplicateOf: {personId, name, score} | null, templateId}`; reasons: `too_small`, `blurry`, `too_dark`, `too_bright`, `pose`, `multiple_faces`, `no_face`, `not_an_image`. A face matching another person is refused unless `force` (enrol.onDuplicate).',
    handler: enrolPhotos,
  },
  {
    method: 'DELETE',
    path: '/api/people/:id/templates/:templateId',
    role: 'admin',
    action: 'template.delete',
    description: 'Remove one template of a person (devices drop it at their next sync).',
    handler: deleteTemplate,
  },

  { method: 'GET', path: '/api/groups', role: 'viewer', description: 'List groups with their schedules and member counts.', handler: listGroups },
  { method: 'POST', path: '/api/groups', role: 'admin', action: 'group.create', description: 'Create a group: `{id?, name, schedules?}`.', handler: createGroup },
  { method: 'GET', path: '/api/groups/:id', role: 'viewer', description: 'One group with `memberIds`.', handler: getGroup },
  {
    method: 'PATCH',
    path: '/api/groups/:id',
    role: 'admin',
    action: 'group.update',
    description: 'Change `name` or `schedules`; every member is re-sent to the devices.',
    handler: updateGroup,
  },
  { method: 'DELETE', path: '/api/groups/:id', role: 'admin', action: 'group.delete', description: 'Delete a group; it is removed from its members.', handler: deleteGroup },

  { method: 'GET', path: '/api/doors', role: 'viewer', description: 'List doors with the devices at each.', handler: listDoors },
  { method: 'POST', path: '/api/doors', role: 'admin', action: 'door.create', description: 'Create a door: `{id, name?}` (the id devices use as recognition.door).', handler: createDoor },
  { method: 'GET', path: '/api/doors/:id', role: 'viewer', description: 'One door, with the devices at it.', handler: getDoor },
  { method: 'PATCH', path: '/api/doors/:id', role: 'admin', action: 'door.update', description: 'Rename a door: `{name}`.', handler: updateDoor },
  { method: 'DELETE', path: '/api/doors/:id', role: 'admin', action: 'door.delete', description: 'Delete a door; 409 while a device or a schedule names it.', handler: deleteDoor },

  {
    method: 'GET',
    path: '/api/devices',
    role: 'viewer',
    description: 'List devices: `online`, `lastSeen`, `joined`, `versions`, `gallerySize`, `outboxDepth`, `door` and `camera` state from the last status, and `sync` (cursor, how far behind the register, snapshot pending).',
    handler: listDevices,
  },
  { method: 'GET', path: '/api/devices/:id', role: 'viewer', description: 'One device, as in the list.', handler: getDevice },
  {
    method: 'POST',
    path: '/api/devices',
    role: 'admin',
    action: 'device.provision',
    description: 'Provision a device: `{id, name?, doorId?}`. 201 with `{deviceId, bundle, mosquitto: {passwordLine, aclLines}}`; the bundle (for `portier join`) is shown once.',
    handler: provisionDevice,
  },
  {
    method: 'PATCH',
    path: '/api/devices/:id',
    role: 'admin',
    action: 'device.update',
    description: 'Rename a device or move it to another door: `{name?, doorId?}` (a new door makes its next sync a full snapshot).',
    handler: updateDevice,
  },
  { method: 'DELETE', path: '/api/devices/:id', role: 'admin', action: 'device.delete', description: 'Decommission a device: its credentials and keys stop working.', handler: deleteDevice },
  {
    method: 'POST',
    path: '/api/devices/:id/unlock',
    role: 'admin',
    action: 'device.unlock',
    description: 'Remote unlock: `{reason}` (required). Answers when the device confirms (200) or fails/times out (502); recorded in the audit log with the reason either way.',
    handler: unlockDevice,
  },
  { method: 'POST', path: '/api/devices/:id/resync', role: 'admin', action: 'device.resync', description: 'Make the device fetch a full snapshot of its register.', handler: resyncDevice },
  {
    method: 'POST',
    path: '/api/devices/:id/enrol-here',
    role: 'admin',
    action: 'device.enrol_here',
    description: 'Capture the person standing at the device (liveness on) and add the template: `{personId}`. Answers with the outcome, including a duplicate warning.',
    handler: enrolHere,
  },

  {
    method: 'GET',
    path: '/api/audit',
    role: 'viewer',
    description:
      'Search the audit log, newest first. Query: `person`, `door`, `device`, `kind` (decision, door, security, admin, ...), `decision` (granted/denied), `reason`, `actor`, `from`, `to` (ISO time, date or ms), `limit` (≤1000, default 50), `cursor` (from `nextCursor`) or `offset`, `total=true` for a count. Returns `{items, nextCursor}`.',
    handler: searchAudit,
  },
  { method: 'GET', path: '/api/audit.csv', role: 'viewer', description: 'The same search as CSV (all matching rows, streamed).', handler: exportAuditCsv },
  {
    method: 'GET',
    path: '/api/audit/stream',
    role: 'viewer',
    description:
      'New audit entries live, as server-sent events (`text/event-stream`): each entry once as `id: <id>` and `data: <entry as in GET /api/audit, with personName>`; a `: ping` comment every 15 s. Starts after the newest entry, or after `Last-Event-ID` (browser reconnect) or `after=<id>`. Ends when the session does (logout, idle timeout, user deleted); at most 5 open streams per session (429 beyond).',
    handler: auditStream,
  },
];

export interface RouteDoc {
  method: string;
  path: string;
  role: string;
  description: string;
}

/** The API reference table for the README. `extra` adds rows served elsewhere (auth). */
export function apiReferenceMarkdown(extra: RouteDoc[] = []): string {
  const esc = (t: string) => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = ['| method | path | role | description |', '|---|---|---|---|'];
  for (const r of [...extra, ...routes]) lines.push(`| ${r.method} | \`${r.path}\` | ${r.role} | ${esc(r.description)} |`);
  return lines.join('\n');
}
