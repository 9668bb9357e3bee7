import { describe, expect, it } from 'vitest';
import { describeConfig } from '../../../core/config/describe.ts';
import { ConfigError, parseConfig } from '../../../core/config/load.ts';
import { defaultGatewayBrokerConfig, gatewayBrokerConfigSchema } from '../../../gateway/broker/config.ts';

describe('gatewayBrokerConfigSchema', () => {
  it('defaults to an embedded broker on 1883 without TLS', () => {
    const c = defaultGatewayBrokerConfig();
    expect(c).toMatchObject({ type: 'embedded', host: '0.0.0.0', port: 1883, tls: { port: 8883, cert: '', key: '' }, adminUsername: '' });
  });

  it('describes every field with a default', () => {
    const rows = describeConfig(gatewayBrokerConfigSchema);
    expect(rows.map((r) => r.key)).toEqual(expect.arrayContaining(['type', 'port', 'tls.cert', 'tls.requireClientCert', 'url', 'password', 'adminPassword']));
    for (const r of rows) {
      expect(r.description, r.key).not.toBe('');
      expect(r.default, r.key).not.toBe('');
    }
  });

  it('reads secrets from env: and file: values', () => {
    const c = parseConfig(gatewayBrokerConfigSchema, { type: 'external', url: 'mqtts://broker:8883', password: 'env:GW_PW' }, { GW_PW: 'from-env' });
    expect(c.password).toBe('from-env');
  });

  it('refuses inconsistent settings', () => {
    const problems = (raw: unknown) => {
      try {
        parseConfig(gatewayBrokerConfigSchema, raw, {});
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problems({ tls: { cert: 'c.pem' } })).toEqual([expect.stringContaining('tls.cert and tls.key')]);
    expect(problems({ tls: { cert: 'c', key: 'k', requireClientCert: true } })).toEqual([expect.stringContaining('needs tls.ca')]);
    expect(problems({ adminUsername: 'ops', adminPassword: 'short' })).toEqual([expect.stringContaining('at least 16')]);
    expect(problems({ type: 'external' })).toEqual([expect.stringContaining('gateway password')]);
    expect(problems({ url: 'http://x' })).toHaveLength(1);
    expect(problems({ bogus: 1 })).toHaveLength(1);
  });
});
