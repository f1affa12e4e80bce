import { text, z } from '@galion/kit';
import { ROLES } from '@galion/tokens';
import { COMMON_PASSWORDS, PASSWORD_MAX_LENGTH } from './domain/password-policy.js';

// What Galion calls an email address: zod's rule for the local part, at most 64 characters of
// it (RFC 5321), and a domain of DNS labels (1 to 63 characters, no hyphen at either end). One
// pattern checks it and the document shows it, so the two agree on every address.
const EMAIL_PATTERN =
  "^(?=[^@]{1,64}@)(?:[A-Za-z0-9_'+\\-]+\\.)*[A-Za-z0-9_'+\\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}$";

const email = z
  .string()
  .max(254)
  .regex(new RegExp(EMAIL_PATTERN), 'must be a valid email address')
  .openapi({ example: 'ada@example.com', format: 'email' });

/** A password as typed at login: checked against the stored hash, not the policy. */
const password = text({ min: 1, max: 1_024 }).openapi({ example: 'correct horse battery staple' });

const token = text({ min: 1, max: 512 });

const session = z.enum(['body', 'cookie']).openapi({
  description:
    'Where the refresh token goes: in the answer (body, the default, for API clients) or in an HttpOnly cookie (cookie, for browsers: the answer then has no refresh_token).',
});

/**
 * The request schemas that carry a new password hold the policy's rules the document can say:
 * the configured minimum length, the maximum, and not one of the most common passwords (the
 * policy also refuses the account's own email, which a schema cannot express).
 */
export const authSchemas = (policy: { passwordMinLength: number }) => {
  const newPassword = text({ min: policy.passwordMinLength, max: PASSWORD_MAX_LENGTH }).openapi({
    example: 'correct horse battery staple',
    description: `At least ${policy.passwordMinLength} and at most ${PASSWORD_MAX_LENGTH} characters; not a common password nor the account's email.`,
    not: { enum: [...COMMON_PASSWORDS] },
  });
  return {
    RegisterRequest: z
      .strictObject({
        email,
        password: newPassword,
        name: text({ min: 1, max: 100, nonBlank: true, trim: true }).openapi({ example: 'Ada Lovelace' }),
      })
      .openapi('RegisterRequest'),
    ChangePasswordRequest: z.strictObject({ current_password: password, new_password: newPassword }).openapi('ChangePasswordRequest'),
    ResetPasswordRequest: z.strictObject({ token, new_password: newPassword }).openapi('ResetPasswordRequest'),
  };
};

export const LoginRequest = z.strictObject({ email, password, session: session.optional() }).openapi('LoginRequest');

export const RefreshRequest = z
  .strictObject({
    refresh_token: token
      .optional()
      .openapi({ description: 'Required unless the browser sends the galion_refresh cookie (then with the X-CSRF-Protection header).' }),
  })
  .openapi('RefreshRequest');

export const LogoutRequest = z
  .strictObject({
    refresh_token: token.optional(),
    all_sessions: z.boolean().optional().openapi({ description: 'End every session of the user, not only this one.' }),
  })
  .openapi('LogoutRequest');

export const User = z
  .object({
    id: z.uuid(),
    email: z.email(),
    name: z.string(),
    role: z.enum(ROLES),
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

export const VerifyEmailRequest = z.strictObject({ token }).openapi('VerifyEmailRequest');

export const Accepted = z.object({ message: z.string() }).openapi('Accepted');
