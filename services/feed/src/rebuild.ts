// `node dist/rebuild.js` (`pnpm --filter @galion/feed rebuild`): rebuilds the feeds in Redis after it lost
// its data, by replaying the user-events topic from its start with a fresh consumer group, then exits
// (docs/feed.md: Rebuilding). The service keeps running meanwhile.
import { createLogger, runMain } from '@galion/kit';
import { loadFeedConfig } from './config.js';
import { rebuildFeed } from './replay.js';

runMain(async () => {
  const config = loadFeedConfig();
  const logger = createLogger({ service: 'feed-rebuild', level: config.logLevel });
  const report = await rebuildFeed(config, { logger });
  logger.info(report, 'the feeds are rebuilt: the replay reached the end of the topic');
});
