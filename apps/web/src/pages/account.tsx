import { useEffect, useRef, useState } from 'react';
import { Link, useLocation, useSearchParams } from 'wouter';
import { api } from '../api';
import { useSession } from '../session';
import { ActionForm, ErrorMessage, Field, Loading, Page } from '../ui';

const text = (data: FormData, name: string): string => String(data.get(name) ?? '');

const loginReasons: Record<string, string> = {
  expired: 'Your session has ended. Log in again.',
  'password-changed': 'Your password is changed and every session is ended. Log in with the new password.',
  deleted: 'Your account is deleted.',
  'logged-out': 'You are logged out.',
};

export const LoginPage = () => {
  const { login } = useSession();
  const [, navigate] = useLocation();
  const [params] = useSearchParams();
  return (
    <Page title="Log in">
      {loginReasons[params.get('reason') ?? ''] ? <p role="status">{loginReasons[params.get('reason') ?? '']}</p> : null}
      <ActionForm
        label="Log in"
        submit="Log in"
        action={async (data) => {
          await login(text(data, 'email'), text(data, 'password'));
          navigate(params.get('next') ?? '/profile');
        }}
      >
        <Field label="Email" name="email" type="email" autoComplete="email" required />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required />
      </ActionForm>
      <p>
        <Link href="/forgot-password">Forgot your password?</Link> · <Link href="/register">Create an account</Link>
      </p>
    </Page>
  );
};

export const RegisterPage = () => {
  const { login } = useSession();
  const [, navigate] = useLocation();
  return (
    <Page title="Create an account">
      <ActionForm
        label="Create an account"
        submit="Create the account"
        action={async (data) => {
          const account = { name: text(data, 'name'), email: text(data, 'email'), password: text(data, 'password') };
          await api('POST', '/api/v1/auth/register', account);
          await login(account.email, account.password);
          // A link to confirm the address goes out at once.
          await api('POST', '/api/v1/auth/email/verify-request', {});
          navigate('/profile?welcome=1');
        }}
      >
        <Field label="Name" name="name" autoComplete="name" required maxLength={100} />
        <Field label="Email" name="email" type="email" autoComplete="email" required />
        <Field label="Password" name="password" type="password" autoComplete="new-password" required minLength={8} hint="At least 8 characters." />
      </ActionForm>
      <p>
        Already registered? <Link href="/login">Log in</Link>
      </p>
    </Page>
  );
};

export const ForgotPasswordPage = () => {
  const [sent, setSent] = useState(false);
  return (
    <Page title="Forgot your password?">
      {sent ? (
        <p role="status">If an account exists for that address, a link to set a new password is on its way. It works once, for 30 minutes.</p>
      ) : (
        <ActionForm
          label="Ask for a reset link"
          submit="Send me a link"
          action={async (data) => {
            await api('POST', '/api/v1/auth/password/forgot', { email: text(data, 'email') });
            setSent(true);
          }}
        >
          <Field label="Email" name="email" type="email" autoComplete="email" required />
        </ActionForm>
      )}
      <p>
        <Link href="/login">Back to log in</Link>
      </p>
    </Page>
  );
};

/** The page the mailed reset link opens: /reset-password?token=… */
export const ResetPasswordPage = () => {
  const [params] = useSearchParams();
  const token = params.get('token');
  const [done, setDone] = useState(false);
  if (!token) {
    return (
      <Page title="Set a new password">
        <p role="alert">This link has no token. Open the link from the mail again, or ask for a new one.</p>
        <Link href="/forgot-password">Ask for a new link</Link>
      </Page>
    );
  }
  return (
    <Page title="Set a new password">
      {done ? (
        <p role="status">
          Your password is changed and every session is ended. <Link href="/login">Log in</Link> with the new password.
        </p>
      ) : (
        <ActionForm
          label="Set a new password"
          submit="Set the password"
          action={async (data) => {
            await api('POST', '/api/v1/auth/password/reset', { token, new_password: text(data, 'password') });
            setDone(true);
          }}
        >
          <Field label="New password" name="password" type="password" autoComplete="new-password" required minLength={8} hint="At least 8 characters." />
        </ActionForm>
      )}
    </Page>
  );
};

/** The page the mailed verification link opens: /verify-email?token=… */
export const VerifyEmailPage = () => {
  const [params] = useSearchParams();
  const token = params.get('token');
  const { state, reload } = useSession();
  const [outcome, setOutcome] = useState<{ done: boolean; error?: unknown }>({ done: false });
  const signedIn = state.status === 'signed-in';
  const started = useRef(false);
  useEffect(() => {
    // Once, after the session is known: a token works only once.
    if (!token || state.status === 'loading' || started.current) return;
    started.current = true;
    api('POST', '/api/v1/auth/email/verify', { token })
      // Signed in (in this tab or through the cookie), the account shows the address verified at once.
      .then(() => (signedIn ? reload() : undefined))
      .then(() => setOutcome({ done: true }))
      .catch((error: unknown) => setOutcome({ done: true, error }));
  }, [token, state.status, signedIn, reload]);
  return (
    <Page title="Confirm your address">
      {!token ? (
        <p role="alert">This link has no token. Open the link from the mail again.</p>
      ) : !outcome.done ? (
        <Loading what="the confirmation" />
      ) : outcome.error ? (
        <ErrorMessage error={outcome.error} />
      ) : (
        <p role="status">
          Your address is confirmed. <Link href={state.status === 'signed-in' ? '/profile' : '/login'}>Continue</Link>
        </p>
      )}
    </Page>
  );
};
