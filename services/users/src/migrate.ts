// `node dist/migrate.js`: applies the users schema and exits (the Helm hook Job runs this).
import { runMain, runMigrationCommand } from '@galion/kit';
import { usersMigrations } from './migrations/index.js';

runMain(() => runMigrationCommand('users', usersMigrations));
