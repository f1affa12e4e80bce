// `node dist/migrate.js`: applies the posts schema and exits (the Helm hook Job runs this).
import { runMain, runMigrationCommand } from '@galion/kit';
import { postsMigrations } from './migrations/index.js';

runMain(() => runMigrationCommand('posts', postsMigrations));
