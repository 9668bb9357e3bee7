/**
 * Entry point of the gateway store. SQLite is the only backend today; the config section and the
 * GatewayStore interface are what a PostgreSQL backend will plug into.
 */
import { type GatewayStoreConfigInput, gatewayStoreConfigSchema } from './config.ts';
import { type GatewayStoreDeps, openSqliteGatewayStore, type SqliteGatewayStore } from './sqlite/store.ts';

export type { GatewayStoreDeps, SqliteGatewayStore };

export function openGatewayStore(config: GatewayStoreConfigInput = {}, deps: GatewayStoreDeps = {}): SqliteGatewayStore {
  return openSqliteGatewayStore(gatewayStoreConfigSchema.parse(config), deps);
}
