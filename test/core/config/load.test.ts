import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfig } from '../../../core/config/load.ts';
import { visionConfigSchema } from '../../../core/vision/config.ts';

describe('config', () => {
  it('fills every default from an empty object', () => {
    const c = parseConfig(visionConfigSchema, {});
    expect(c.detector.scoreThreshold).toBe(0.7);
    expect(c.liveness.channelOrder).toBe('bgr');
    expect(c.executionProviders).toEqual(['cpu']);
  });

  it('reports all problems at once, including unknown keys', () => {
    let err: ConfigError | undefined;
    try {
      parseConfig(visionConfigSchema, { bogus: 1, detector: { scoreThreshold: 3, typo: true }, match: { threshold: 'high' } });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems).toHaveLength(4);
    expect(err!.message).toMatch(/bogus/);
    expect(err!.message).toMatch(/detector\.scoreThreshold/);
    expect(err!.message).toMatch(/typo/);
    expect(err!.message).toMatch(/match\.threshold/);
  });

  it('resolves env: and file: secrets and reports missing ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portier-cfg-'));
    writeFileSync(join(dir, 'dir.txt'), '/opt/models\n');
    const c = parseConfig(visionConfigSchema, { modelDir: `file:${join(dir, 'dir.txt')}` });
    expect(c.modelDir).toBe('/opt/models');
    expect(parseConfig(visionConfigSchema, { modelDir: 'env:PORTIER_T_DIR' }, { PORTIER_T_DIR: '/m' }).modelDir).toBe('/m');
    expect(() => parseConfig(visionConfigSchema, { modelDir: 'env:PORTIER_T_NOPE' }, {})).toThrow(/PORTIER_T_NOPE is not set/);
  });

  it('explains an unreadable or malformed file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portier-cfg-'));
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    expect(() => loadConfigFile(visionConfigSchema, join(dir, 'bad.json'))).toThrow(/not valid JSON/);
    expect(() => loadConfigFile(visionConfigSchema, join(dir, 'missing.json'))).toThrow(/cannot read config file/);
  });
});
