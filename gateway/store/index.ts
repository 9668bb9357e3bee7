/** The gateway store's public surface: open it, its config and its repository types. */
export { openGatewayStore, type GatewayStoreDeps, type SqliteGatewayStore } from './open.ts';
export { gatewayStoreConfigSchema, defaultGatewayStoreConfig, type GatewayStoreConfig, type GatewayStoreConfigInput } from './config.ts';
export { StoreCorruptError } from './sqlite/database.ts';
export { KeyError } from './crypto.ts';
export * from './types.ts';
