import { sharedTokenLifetime } from '../src/settings';

describe('the access-token lifetime users is given', () => {
  it("when only auth's lifetime is set, then users gets the same one", () => {
    expect(sharedTokenLifetime({ AUTH_ACCESS_TOKEN_TTL_SECONDS: '1800' })).toEqual({ ACCESS_TOKEN_TTL_SECONDS: '1800' });
  });

  it("when users' own lifetime is set too, or neither is, then nothing is added", () => {
    expect(sharedTokenLifetime({ AUTH_ACCESS_TOKEN_TTL_SECONDS: '1800', ACCESS_TOKEN_TTL_SECONDS: '600' })).toEqual({});
    expect(sharedTokenLifetime({})).toEqual({});
  });
});
