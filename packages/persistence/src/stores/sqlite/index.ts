export { SqliteStore, type SqliteStoreOptions, type SqliteDurability } from './sqlite-store.js';
