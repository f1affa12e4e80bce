import { useEffect, useId, useState, type FormEvent, type InputHTMLAttributes, type ReactNode, type TextareaHTMLAttributes } from 'react';
import { ApiError } from './api';

/** A mistake in what the user typed, found before anything is sent. */
export class FormError extends Error {}

/** The API's message and request id, or what went wrong in the browser. */
export const ErrorMessage = ({ error }: { error: unknown }) => {
  if (!error) return null;
  const api = error instanceof ApiError ? error : undefined;
  const message = api ? api.message : error instanceof FormError ? error.message : 'Galion could not be reached. Check your connection and try again.';
  return (
    <div className="error" role="alert">
      <p>{message}</p>
      {api?.details.length ? (
        <ul>
          {api.details.map((detail) => (
            <li key={`${detail.path}-${detail.message}`}>{detail.path ? `${detail.path}: ${detail.message}` : detail.message}</li>
          ))}
        </ul>
      ) : null}
      {api?.requestId ? <p className="request-id">Request id: {api.requestId}</p> : null}
    </div>
  );
};

export const Loading = ({ what }: { what: string }) => (
  <p className="loading" role="status" aria-live="polite">
    Loading {what}…
  </p>
);

export const Field = ({ label, hint, ...input }: { label: string; hint?: string } & InputHTMLAttributes<HTMLInputElement>) => {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-describedby={hint ? `${id}-hint` : undefined} {...input} />
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
    </div>
  );
};

export const TextArea = ({ label, hint, ...input }: { label: string; hint?: string } & TextareaHTMLAttributes<HTMLTextAreaElement>) => {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea id={id} aria-describedby={hint ? `${id}-hint` : undefined} {...input} />
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
    </div>
  );
};

/** A form that runs `action` on submit, disables itself while it runs and shows its error. */
export const ActionForm = ({
  action,
  submit,
  children,
  label,
}: {
  action: (data: FormData) => Promise<void>;
  submit: string;
  children: ReactNode;
  label: string;
}) => {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await action(new FormData(event.currentTarget));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(event) => void onSubmit(event)} aria-label={label} aria-busy={busy}>
      {children}
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy}>
        {busy ? 'Please wait…' : submit}
      </button>
    </form>
  );
};

export const Page = ({ title, children }: { title: string; children: ReactNode }) => {
  useEffect(() => {
    document.title = `${title} · Galion`;
  }, [title]);
  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">{title}</h1>
      {children}
    </section>
  );
};
