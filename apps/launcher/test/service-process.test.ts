import { freePort } from '@galion/localdeps';
import { serviceProcess } from '../src/platform';

describe('a service started as its own process', () => {
  it('when it dies at start, then the error names it and quotes the end of its stderr, even with its output ignored', async () => {
    const port = await freePort();
    const gateway = serviceProcess('gateway', port, { RATE_LIMIT_FAIL_OPEN: 'maybe', LOG_LEVEL: 'silent' }, 'ignore');

    const started = gateway.start();

    await expect(started).rejects.toThrow(/^gateway exited with 1; its last words: .*RATE_LIMIT_FAIL_OPEN: must be true or false/s);
    expect(gateway.running).toBe(false);
  });
});
