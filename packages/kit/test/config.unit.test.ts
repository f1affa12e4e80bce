import { ConfigError, env, loadConfig, withPassword, z } from '@galion/kit';

const schema = z.object({
  PORT: env.int(1, 65_535).default(8080),
  ENABLED: env.bool().default(false),
  ORIGINS: env.list().default([]),
  URL: env.url(['postgres']),
});

describe('loadConfig', () => {
  it('when values are valid, then they are parsed and defaults fill the rest', () => {
    expect(loadConfig(schema, { URL: 'postgres://db/x', ENABLED: 'yes', ORIGINS: 'a, b,,c' })).toEqual({
      PORT: 8080,
      ENABLED: true,
      ORIGINS: ['a', 'b', 'c'],
      URL: 'postgres://db/x',
    });
  });

  it('when several values are wrong, then one error names each variable', () => {
    let caught: unknown;
    try {
      loadConfig(schema, { PORT: '99999', ENABLED: 'perhaps', URL: 'mysql://db' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const message = (caught as Error).message;
    expect(message).toMatch(/PORT: .*65535/);
    expect(message).toMatch(/ENABLED: must be true or false/);
    expect(message).toMatch(/URL: must be a URL \(postgres\)/);
  });

  it('when a variable is empty, then it counts as unset', () => {
    expect(() => loadConfig(schema, { URL: '' })).toThrow(/URL: .*\(not set\)/);
  });

  it('when a password comes separately, then it is put into the URL, encoded', () => {
    expect(withPassword('postgres://app@db:5432/x', 'p@ss/word')).toBe('postgres://app:p%40ss%2Fword@db:5432/x');
  });
});
