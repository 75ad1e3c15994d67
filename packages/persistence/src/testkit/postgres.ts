export { startTempPostgres, findPostgresBin, type TempPostgres, type TempPostgresOptions } from './temp-postgres.js';
