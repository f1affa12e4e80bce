import { ErrorResponseSchema, unauthorized, type ApiRouter, type ResponseHeaderSpec } from '@galion/kit';
import type { Request } from 'express';
import { authOf } from '@galion/tokens';
import type { AccountRecovery } from '../domain/account-recovery.js';
import type { AccountView, AuthService, TokenPair } from '../domain/auth-service.js';
import type { SigningKeyRing } from '../domain/signing-keys.js';
import {
  Accepted,
  authSchemas,
  ForgotPasswordRequest,
  VerifyEmailRequest,
  Jwks,
  LoginRequest,
  LogoutRequest,
  OpenIdConfiguration,
  RefreshRequest,
  TokenResponse,
  User,
} from '../schemas.js';
import {
  checkCsrf,
  clearedRefreshCookies,
  CSRF_HEADER,
  readRefreshCookie,
  REFRESH_COOKIE,
  refreshCookies,
  type RefreshCookieSettings,
} from './refresh-cookie.js';

export const BASE = '/api/v1/auth';
const tags = ['auth'];

export const toUser = (account: AccountView) => ({
  id: account.id,
  email: account.email,
  name: account.name,
  role: account.role,
  email_verified: account.emailVerifiedAt !== null,
  created_at: account.createdAt.toISOString(),
});

// Token answers must never be cached (RFC 6749 section 5.1).
const noStore = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

/** The pair in the body (API clients), or the access token in the body and the refresh token in the cookie (browsers). */
const tokenReply = (pair: TokenPair, cookie: RefreshCookieSettings | undefined) => ({
  status: 200,
  headers: cookie ? { ...noStore, 'Set-Cookie': refreshCookies(pair.refreshToken, cookie) } : noStore,
  body: {
    access_token: pair.accessToken,
    ...(cookie ? {} : { refresh_token: pair.refreshToken }),
    token_type: 'Bearer' as const,
    expires_in: pair.expiresIn,
  },
});

/** The refresh token a request carries in its cookie, once the CSRF checks pass. */
const cookieToken = (req: Request, settings: RefreshCookieSettings): string | undefined => {
  const token = readRefreshCookie(req.get('cookie'));
  if (token) checkCsrf({ csrf: req.get(CSRF_HEADER), origin: req.get('origin') }, settings);
  return token;
};

export interface AuthRouteDeps {
  auth: AuthService;
  recovery: AccountRecovery;
  keys: SigningKeyRing;
  issuer: string;
  refreshCookie: RefreshCookieSettings;
  passwordMinLength: number;
}

const NO_STORE_HEADERS: Record<string, ResponseHeaderSpec> = {
  'Cache-Control': { description: 'no-store: token answers are never cached.' },
};
const SET_REFRESH_COOKIE: Record<string, ResponseHeaderSpec> = {
  ...NO_STORE_HEADERS,
  'Set-Cookie': {
    description: `In cookie mode: the refresh token in the HttpOnly, SameSite=Strict ${REFRESH_COOKIE} cookie, for the refresh and logout paths only.`,
  },
};
/** The routes that hash a password declare the hashing queue's refusal beside the kit's own 503s. */
const HASHING_REFUSED = {
  description:
    'Too many passwords are being checked at once (overloaded): refused at once rather than queued, see Retry-After; or the service is at capacity (overloaded) or a store it needs is unreachable (dependency_unavailable)',
  schema: ErrorResponseSchema,
  headers: { 'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } } },
} as const;
const REFRESH_COOKIE_INPUT = {
  cookies: { [REFRESH_COOKIE]: 'The refresh token a browser holds (cookie mode); used when the body has no refresh_token.' },
  headers: { [CSRF_HEADER]: 'Must be 1 when the refresh token comes from the cookie, with an Origin of this site.' },
};

export const registerAuthRoutes = (
  api: ApiRouter,
  { auth, recovery, keys, issuer, refreshCookie, passwordMinLength }: AuthRouteDeps,
): void => {
  const { RegisterRequest, ChangePasswordRequest, ResetPasswordRequest } = authSchemas({ passwordMinLength });

  api.route({
    method: 'post',
    path: `${BASE}/register`,
    access: { public: 'auth' },
    summary: 'Create an account',
    tags,
    body: RegisterRequest,
    responses: {
      201: { description: 'The new user', schema: User },
      400: 'Invalid input (validation_failed), or a password that fails the policy (validation_failed, with too_short, too_long, matches_email or too_common)',
      409: 'An account with this email exists (email_taken)',
      503: HASHING_REFUSED,
    },
    handler: async ({ body }) => ({ status: 201, body: toUser(await auth.register(body)) }),
  });

  api.route({
    method: 'post',
    path: `${BASE}/login`,
    access: { public: 'auth' },
    summary: 'Log in with email and password',
    tags,
    body: LoginRequest,
    responses: {
      200: {
        description:
          'An access and a refresh token (with session "cookie": the access token, and the refresh token in the HttpOnly galion_refresh cookie)',
        schema: TokenResponse,
        headers: SET_REFRESH_COOKIE,
      },
      401: 'Wrong email or password (invalid_credentials), the same answer for both',
      429: 'Too many failed logins for this account or address (rate_limited); see Retry-After',
      503: HASHING_REFUSED,
    },
    handler: async ({ body, req }) =>
      tokenReply(
        await auth.login({ email: body.email, password: body.password }, { ip: req.ip ?? 'unknown', userAgent: req.get('user-agent') }),
        body.session === 'cookie' ? refreshCookie : undefined,
      ),
  });

  api.route({
    method: 'post',
    path: `${BASE}/refresh`,
    access: { public: 'ip' },
    summary: 'Swap a refresh token for a new pair (rotation)',
    tags,
    body: RefreshRequest,
    ...REFRESH_COOKIE_INPUT,
    responses: {
      200: {
        description: 'A new access and refresh token (from the cookie: the new refresh token in the cookie)',
        schema: TokenResponse,
        headers: SET_REFRESH_COOKIE,
      },
      401: 'No refresh token in the body or the cookie (refresh_token_missing), or one that is invalid, expired, revoked or reused (refresh_token_invalid, refresh_token_expired, refresh_token_revoked, refresh_token_reused)',
      403: 'The refresh cookie came without the X-CSRF-Protection header, or from another origin (csrf_check_failed)',
    },
    handler: async ({ body, req }) => {
      if (body.refresh_token) return tokenReply(await auth.refresh(body.refresh_token), undefined);
      const token = cookieToken(req, refreshCookie);
      if (!token)
        throw unauthorized(
          'refresh_token_missing',
          'Send refresh_token in the body, or the galion_refresh cookie with the X-CSRF-Protection header.',
        );
      return tokenReply(await auth.refresh(token), refreshCookie);
    },
  });

  api.route({
    method: 'post',
    path: `${BASE}/logout`,
    summary: 'End the session and revoke the access token at once',
    tags,
    access: 'bearer',
    body: LogoutRequest,
    ...REFRESH_COOKIE_INPUT,
    responses: {
      204: {
        description: 'Logged out; the refresh cookie, if any, is removed',
        headers: { 'Set-Cookie': { description: 'Clears the refresh cookie when the request carried it.' } },
      },
      403: 'The refresh cookie came without the X-CSRF-Protection header, or from another origin (csrf_check_failed)',
    },
    handler: async ({ body, req, res }) => {
      const fromCookie = body.refresh_token ? undefined : cookieToken(req, refreshCookie);
      await auth.logout(authOf(res), { refreshToken: body.refresh_token ?? fromCookie, allSessions: body.all_sessions });
      return { status: 204, ...(fromCookie && { headers: { 'Set-Cookie': clearedRefreshCookies(refreshCookie) } }) };
    },
  });

  api.route({
    method: 'get',
    path: `${BASE}/me`,
    summary: 'The current user',
    tags,
    access: 'bearer',
    responses: { 200: { description: 'The user', schema: User }, 401: 'Missing or invalid token', 404: 'The account is gone' },
    handler: async ({ res }) => ({ body: toUser(await auth.me(authOf(res))) }),
  });

  api.route({
    method: 'post',
    path: `${BASE}/password`,
    summary: 'Change the password (ends every session)',
    tags,
    access: 'bearer',
    body: ChangePasswordRequest,
    responses: {
      204: { description: 'Changed' },
      400: 'The new password fails the policy',
      401: 'Wrong current password or token',
      503: HASHING_REFUSED,
    },
    handler: async ({ body, res }) => {
      await auth.changePassword(authOf(res), { currentPassword: body.current_password, newPassword: body.new_password });
      return { status: 204 };
    },
  });

  api.route({
    method: 'post',
    path: `${BASE}/password/forgot`,
    access: { public: 'auth' },
    summary: 'Mail a password-reset link (same answer whether or not the account exists)',
    tags,
    body: ForgotPasswordRequest,
    responses: { 202: { description: 'Accepted', schema: Accepted }, 400: 'Invalid input', 429: 'Too many requests from this address' },
    handler: async ({ body, req }) => {
      await recovery.requestPasswordReset(body.email, req.ip ?? 'unknown');
      return { status: 202, body: { message: 'If an account exists for this email, a reset link is on its way.' } };
    },
  });

  api.route({
    method: 'post',
    path: `${BASE}/password/reset`,
    access: { public: 'auth' },
    summary: 'Set a new password with a mailed reset token (ends every session)',
    tags,
    body: ResetPasswordRequest,
    responses: {
      204: { description: 'Password changed' },
      400: 'Invalid or expired token (reset_token_invalid), or a weak password',
      503: HASHING_REFUSED,
    },
    handler: async ({ body }) => {
      await recovery.resetPassword(body.token, body.new_password);
      return { status: 204 };
    },
  });

  api.route({
    method: 'post',
    path: `${BASE}/email/verify-request`,
    summary: 'Mail a link that confirms the email address',
    tags,
    access: 'bearer',
    responses: {
      202: { description: 'Accepted', schema: Accepted },
      401: 'Missing or invalid token',
      409: 'Already verified',
      429: 'Too many mails',
    },
    handler: async ({ req, res }) => {
      await recovery.requestEmailVerification(authOf(res).sub, req.ip ?? 'unknown');
      return { status: 202, body: { message: 'A verification link is on its way.' } };
    },
  });

  api.route({
    method: 'post',
    path: `${BASE}/email/verify`,
    access: { public: 'auth' },
    summary: 'Confirm the email address with a mailed token',
    tags,
    body: VerifyEmailRequest,
    responses: { 204: { description: 'Verified' }, 400: 'Invalid or expired token (verification_token_invalid)' },
    handler: async ({ body }) => {
      await recovery.verifyEmail(body.token);
      return { status: 204 };
    },
  });

  api.route({
    method: 'get',
    path: `${BASE}/.well-known/jwks.json`,
    access: { public: 'ip' },
    summary: 'The public keys that verify access tokens',
    tags,
    responses: { 200: { description: 'JSON Web Key Set', schema: Jwks } },
    handler: () => ({
      headers: { 'Cache-Control': 'public, max-age=300' },
      body: keys.publicJwks(),
    }),
  });

  api.route({
    method: 'get',
    path: `${BASE}/.well-known/openid-configuration`,
    access: { public: 'ip' },
    summary: 'OIDC-style discovery document',
    tags,
    responses: { 200: { description: 'Discovery document', schema: OpenIdConfiguration } },
    handler: () => ({
      headers: { 'Cache-Control': 'public, max-age=300' },
      body: {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        token_endpoint: `${issuer}/login`,
        registration_endpoint: `${issuer}/register`,
        userinfo_endpoint: `${issuer}/me`,
        revocation_endpoint: `${issuer}/logout`,
        id_token_signing_alg_values_supported: [...new Set(keys.keys.map((key) => key.alg))],
        token_endpoint_auth_methods_supported: ['none'],
        grant_types_supported: ['password', 'refresh_token'],
        response_types_supported: ['token'],
        subject_types_supported: ['public'],
      },
    }),
  });
};
