import type { ErrorDetail } from '@galion/kit';

export const PASSWORD_MAX_LENGTH = 128;

/** A short list of the most common passwords; any of these is refused whatever its length. */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '12345678',
  '123456789',
  '1234567890',
  '12345678910',
  'password',
  'password1',
  'password12',
  'password123',
  'passw0rd',
  'p@ssw0rd',
  'p@ssword',
  'qwertyuiop',
  'qwerty123',
  'qwerty12345',
  '1q2w3e4r',
  '1q2w3e4r5t',
  '1qaz2wsx',
  'zaq12wsx',
  'iloveyou',
  'iloveyou1',
  'sunshine',
  'princess',
  'football',
  'baseball',
  'welcome1',
  'welcome123',
  'abc12345',
  'abcd1234',
  'admin123',
  'administrator',
  'letmein1',
  'trustno1',
  'starwars',
  'superman',
  'whatever',
  'computer',
  'internet',
  'michael1',
  'shadow12',
  'monkey123',
  'dragon12',
  'master123',
  'changeme',
  'changeme123',
  'secret123',
  '11111111',
  '00000000',
  '88888888',
  '12341234',
  '87654321',
  'asdfghjkl',
  'asdf1234',
  'qwertyui',
  'q1w2e3r4',
  'aa123456',
  'galion123',
]);

/**
 * The password policy (NIST SP 800-63B style): long enough, not absurdly long, not the email,
 * not a well-known password. No composition rules: they push people to weaker patterns.
 */
export const checkPassword = (password: string, email: string, minLength: number): ErrorDetail[] => {
  const problems: ErrorDetail[] = [];
  const length = [...password].length;
  if (length < minLength) {
    problems.push({ path: 'body.password', code: 'too_short', message: `must be at least ${minLength} characters` });
  }
  if (length > PASSWORD_MAX_LENGTH) {
    problems.push({ path: 'body.password', code: 'too_long', message: `must be at most ${PASSWORD_MAX_LENGTH} characters` });
  }
  const lowered = password.toLowerCase();
  if (lowered === email.toLowerCase() || lowered === email.split('@')[0]?.toLowerCase()) {
    problems.push({ path: 'body.password', code: 'matches_email', message: 'must not be your email address' });
  }
  if (COMMON_PASSWORDS.has(lowered)) {
    problems.push({ path: 'body.password', code: 'too_common', message: 'is one of the most common passwords; choose another' });
  }
  return problems;
};
