/**
 * Gateway entry point: `node --import tsx gateway/main.ts --config /etc/portier/gateway.json`
 * (systemd/portier-gateway.service). Without a config every default applies (data under
 * data/gateway, API on 127.0.0.1:8080, embedded broker on 1883). SIGTERM/SIGINT stop cleanly:
 * the retained `offline` goes out before the broker closes.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from '../core/config/load.ts';
import { createLogger } from '../core/log/logger.ts';
import { gatewayConfigSchema } from './config.ts';
import { startGateway } from './gateway.ts';

const log = createLogger('main');

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' } } });
  const config = loadConfigFile(gatewayConfigSchema, values.config ?? process.env.PORTIER_GATEWAY_CONFIG);
  const gw = await startGateway(config);
  console.log(`Portier gateway: API ${gw.http.url}/api, broker ${gw.brokerUrl}`);
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`stopping (${why})`);
    await gw.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  if (err instanceof ConfigError) console.error(err.message);
  else log.error('gateway failed to start', { error: (err as Error).stack ?? String(err) });
  setTimeout(() => process.exit(1), 1000);
});
