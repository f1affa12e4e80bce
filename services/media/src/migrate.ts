// `node dist/migrate.js`: applies the media schema and exits (the Helm hook Job runs this).
import { runMain, runMigrationCommand } from '@galion/kit';
import { mediaMigrations } from './migrations/index.js';

runMain(() => runMigrationCommand('media', mediaMigrations));
