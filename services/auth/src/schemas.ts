import { z } from '@galion/kit';

const email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ message: 'must be a valid email address' }))
  .openapi({ example: 'ada@example.com', format: 'email' });
const password = z.string().min(1).max(1024).openapi({ example: 'correct horse battery staple' });

export const RegisterRequest = z
  .strictObject({
    email,
    password,
    name: z.string().trim().min(1).max(100).openapi({ example: 'Ada Lovelace' }),
  })
  .openapi('RegisterRequest');

const session = z.enum(['body', 'cookie']).openapi({
  description:
    'Where the refresh token goes: in the answer (body, the default, for API clients) or in an HttpOnly cookie (cookie, for browsers: the answer then has no refresh_token).',
});

export const LoginRequest = z.strictObject({ email, password, session: session.optional() }).openapi('LoginRequest');

export const RefreshRequest = z
  .strictObject({
    refresh_token: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .openapi({ description: 'Required unless the browser sends the refresh cookie (then with the X-CSRF-Protection header).' }),
  })
  .openapi('RefreshRequest');

export const LogoutRequest = z
  .strictObject({
    refresh_token: z.string().min(1).max(512).optional(),
    all_sessions: z.boolean().optional().openapi({ description: 'End every session of the user, not only this one.' }),
  })
  .openapi('LogoutRequest');

export const ChangePasswordRequest = z
  .strictObject({ current_password: password, new_password: password })
  .openapi('ChangePasswordRequest');

export const User = z
  .object({
    id: z.uuid(),
    email: z.email(),
    name: z.string(),
    role: z.enum(['user', 'admin']),
    email_verified: z.boolean(),
    created_at: z.iso.datetime(),
  })
  .openapi('User');

export const TokenResponse = z
  .object({
    access_token: z.string(),
    refresh_token: z.string().optional().openapi({ description: 'Absent in cookie mode: the token is in the galion_refresh cookie.' }),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().openapi({ description: 'Seconds until the access token expires.' }),
  })
  .openapi('TokenResponse');

export const Jwks = z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).openapi('JWKS');

export const OpenIdConfiguration = z
  .object({
    issuer: z.url(),
    jwks_uri: z.url(),
    token_endpoint: z.url(),
    registration_endpoint: z.url(),
    userinfo_endpoint: z.url(),
    revocation_endpoint: z.url(),
    id_token_signing_alg_values_supported: z.array(z.string()),
    token_endpoint_auth_methods_supported: z.array(z.string()),
    grant_types_supported: z.array(z.string()),
    response_types_supported: z.array(z.string()),
    subject_types_supported: z.array(z.string()),
  })
  .openapi('OpenIdConfiguration');

export const ForgotPasswordRequest = z.strictObject({ email }).openapi('ForgotPasswordRequest');

export const ResetPasswordRequest = z
  .strictObject({ token: z.string().min(1).max(512), new_password: password })
  .openapi('ResetPasswordRequest');

export const VerifyEmailRequest = z.strictObject({ token: z.string().min(1).max(512) }).openapi('VerifyEmailRequest');

export const Accepted = z.object({ message: z.string() }).openapi('Accepted');
