// `node dist/migrate.js`: applies the auth schema and exits (the Helm hook Job runs this).
import { runMain, runMigrationCommand } from '@galion/kit';
import { authMigrations } from './migrations/index.js';

runMain(() => runMigrationCommand('auth', authMigrations));
