import { checkPassword, PASSWORD_MAX_LENGTH } from '../src/domain/password-policy';

const codesOf = (password: string, email = 'ada@example.com', minLength = 10) =>
  checkPassword(password, email, minLength).map((problem) => problem.code);

describe('password policy', () => {
  test('when a password is long enough, not the email and not common, then it passes whatever its characters', () => {
    expect(checkPassword('correct horse battery', 'ada@example.com', 10)).toEqual([]);
    expect(checkPassword('alllowercaseletters', 'ada@example.com', 10)).toEqual([]);
  });

  test('when a password is shorter than the minimum, then it is too_short and the message names the minimum', () => {
    const problems = checkPassword('short pw', 'ada@example.com', 12);

    expect(problems).toEqual([{ path: 'body.password', code: 'too_short', message: 'must be at least 12 characters' }]);
  });

  test('when a password has exactly the minimum length, then it passes; one less does not', () => {
    expect(codesOf('a'.repeat(9) + 'b')).toEqual([]);
    expect(codesOf('a'.repeat(8) + 'b')).toEqual(['too_short']);
  });

  test('when a password is made of emoji, then its length counts characters, not UTF-16 units', () => {
    const tenEmoji = '🔑'.repeat(10);
    const fiveEmoji = '🔑'.repeat(5);

    expect(codesOf(tenEmoji)).toEqual([]);
    expect(codesOf(fiveEmoji)).toEqual(['too_short']);
  });

  test('when a password is longer than the maximum, then it is too_long; at the maximum it passes', () => {
    expect(codesOf('x'.repeat(PASSWORD_MAX_LENGTH) + 'y')).toEqual(['too_long']);
    expect(codesOf('x'.repeat(PASSWORD_MAX_LENGTH - 1) + 'y')).toEqual([]);
  });

  test('when a password is the email or its local part, in any case, then it is matches_email', () => {
    const email = 'Grace.Hopper@example.com';

    expect(codesOf('grace.hopper@EXAMPLE.com', email)).toEqual(['matches_email']);
    expect(codesOf('GRACE.HOPPER', email)).toEqual(['matches_email']);
    expect(codesOf('grace.hopper.2024', email)).toEqual([]);
  });

  test('when a password is on the common list, in any case, then it is too_common even if long enough', () => {
    expect(codesOf('Password123')).toEqual(['too_common']);
    expect(codesOf('ADMINISTRATOR', 'ada@example.com', 8)).toEqual(['too_common']);
  });

  test('when a password breaks several rules, then every problem is listed', () => {
    expect(codesOf('password', 'password@example.com', 10)).toEqual(['too_short', 'matches_email', 'too_common']);
  });
});
