import { forbidden, setContextUser, type AccessGuards } from '@galion/kit';
import type { RequestHandler, Response } from 'express';
import type { AccessClaims, Role } from './claims.js';
import { tokenMissing, type TokenVerifier } from './verifier.js';

/** The bearer token of a request, if it sent one in the Authorization header. */
export const bearerToken = (authorization: string | undefined): string | undefined => {
  const match = /^Bearer[ ]+([A-Za-z0-9\-_.~+/]+=*)\s*$/i.exec(authorization ?? '');
  return match?.[1];
};

/** Verifies the bearer token and puts its claims on `res.locals.auth`; 401 otherwise. */
export const authenticate =
  (verifier: TokenVerifier): RequestHandler =>
  async (req, res, next) => {
    const token = bearerToken(req.get('authorization'));
    if (!token) throw tokenMissing();
    const claims = await verifier.verify(token);
    res.locals.auth = claims;
    res.locals.userId = claims.sub;
    setContextUser(claims.sub);
    next();
  };

/** Lets only the given roles through; 403 for everyone else. Use after `authenticate`. */
export const requireRole =
  (...roles: Role[]): RequestHandler =>
  (_req, res, next) => {
    if (!roles.includes(authOf(res).role)) throw forbidden(`This needs the ${roles.join(' or ')} role.`);
    next();
  };

/** The verified claims of the current request (after `authenticate`). */
export const authOf = (res: Response): AccessClaims => {
  const claims = res.locals.auth as AccessClaims | undefined;
  if (!claims) throw new Error('authOf used on a route without authenticate');
  return claims;
};

/** The guards an ApiRouter enforces its routes' access with: this verifier's token check, then the role. */
export const tokenGuards = (verifier: TokenVerifier): AccessGuards => ({
  bearer: authenticate(verifier),
  role: (role) => requireRole(role as Role),
});
