/** The roles a token can carry; the schemas of every service take them from here. */
export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a verified access token says about its bearer. */
export interface AccessClaims {
  sub: string;
  role: Role;
  jti: string;
  iat: number;
  exp: number;
  iss: string;
  aud: string | string[];
}

/** The JWT `typ` of Galion access tokens (RFC 9068), so no other JWT passes as one. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
/** What access tokens may be signed with: Ed25519 (EdDSA) and P-256 (ES256), the keys auth signs with; `none` never. */
export const ACCESS_TOKEN_ALGORITHMS = ['EdDSA', 'ES256'] as const;
export type AccessTokenAlgorithm = (typeof ACCESS_TOKEN_ALGORITHMS)[number];

export const isAccessTokenAlgorithm = (value: unknown): value is AccessTokenAlgorithm =>
  ACCESS_TOKEN_ALGORITHMS.includes(value as AccessTokenAlgorithm);
