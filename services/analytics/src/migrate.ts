// `node dist/migrate.js`: applies the analytics schema and exits (the Helm hook Job runs this).
import { runMain, runMigrationCommand } from '@galion/kit';
import { analyticsMigrations } from './migrations/index.js';

runMain(() => runMigrationCommand('analytics', analyticsMigrations));
