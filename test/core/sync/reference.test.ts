import { describe, expect, it } from 'vitest';
import { bodySchemas, parseTopic, type DownKind, type UpKind } from '../../../core/sync/contract.ts';
import { exampleBodies, topicMarkdown, topicReference } from '../../../core/sync/reference.ts';

describe('MQTT topic reference', () => {
  it('has an example for every message kind that the contract schema accepts', () => {
    for (const [dir, schemas] of Object.entries(bodySchemas)) {
      for (const [kind, schema] of Object.entries(schemas)) {
        const r = schema.safeParse(exampleBodies[kind as UpKind | DownKind]);
        expect(r.success, `${dir}/${kind}: ${JSON.stringify(r.error?.issues)}`).toBe(true);
      }
    }
  });
  it('lists every topic once, each one parseable back to its scope', () => {
    const rows = topicReference();
    expect(rows).toHaveLength(2 + Object.keys(bodySchemas.up).length + Object.keys(bodySchemas.down).length);
    for (const r of rows) expect(parseTopic(r.topic.replace('{deviceId}', 'door-1')), r.topic).not.toBeNull();
    expect(topicMarkdown()).toContain('portier/v1/devices/{deviceId}/down/command');
  });
  it('parses topics strictly', () => {
    expect(parseTopic('portier/v1/devices/door-1/up/audit')).toEqual({ scope: 'up', deviceId: 'door-1', kind: 'audit' });
    expect(parseTopic('portier/v1/devices/door-1/up/bogus')).toBeNull();
    expect(parseTopic('portier/v1/devices/Door+1/up/audit')).toBeNull();
    expect(parseTopic('portier/v2/devices/door-1/up/audit')).toBeNull();
    expect(parseTopic('portier/v1/devices/door-1/down/command/extra')).toBeNull();
  });
});
