import {
  useEffect,
  useId,
  useRef,
  useState,
  type DragEvent,
  type FormEvent,
  type InputHTMLAttributes,
  type ReactNode,
  type TextareaHTMLAttributes,
} from 'react';
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

/** A count and its noun: "1 follower", "1,204 followers". */
export const plural = (count: number, one: string, many: string): string => `${count.toLocaleString()} ${count === 1 ? one : many}`;

/**
 * A button that asks first: a click shows the question, and "Yes" runs `action`. The focus follows
 * the question, to its Cancel when it opens (the button clicked is gone) and back to the button
 * when it is cancelled.
 */
export const ConfirmButton = ({
  label,
  question,
  yes,
  action,
}: {
  label: string;
  question: string;
  yes: string;
  action: () => Promise<void>;
}) => {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const opener = useRef<HTMLButtonElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const asked = useRef(false);
  useEffect(() => {
    if (asking) cancel.current?.focus();
    else if (asked.current) opener.current?.focus();
    asked.current ||= asking;
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" className="danger" ref={opener} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <div className="confirm" role="group" aria-label={question}>
      <p>{question}</p>
      <div className="buttons">
        <button
          type="button"
          className="danger"
          disabled={busy}
          onClick={() => {
            setBusy(true);
            setError(undefined);
            action().catch((caught: unknown) => {
              setError(caught);
              setBusy(false);
            });
          }}
        >
          {busy ? 'Please wait…' : yes}
        </button>
        <button type="button" className="secondary" ref={cancel} onClick={() => setAsking(false)} disabled={busy}>
          Cancel
        </button>
      </div>
      <ErrorMessage error={error} />
    </div>
  );
};

/**
 * A file input that is also a drop zone: a file chosen or dropped on it goes to `onFile`. The input
 * is emptied after each choice, so that the same file can be chosen again (after an error, say), and
 * never disabled, which would take the focus away from a keyboard user.
 */
export const FilePicker = ({
  label,
  hint,
  accept,
  onFile,
}: {
  label: string;
  hint: string;
  accept: string;
  onFile: (file: File) => void;
}) => {
  const id = useId();
  const [over, setOver] = useState(false);
  const dragging = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setOver(true);
  };
  return (
    <div
      className={over ? 'drop-zone over' : 'drop-zone'}
      onDragEnter={dragging}
      onDragOver={dragging}
      // Leaving for one of its own children is no leaving.
      onDragLeave={(event) => !event.currentTarget.contains(event.relatedTarget as Node | null) && setOver(false)}
      onDrop={(event) => {
        event.preventDefault();
        setOver(false);
        const file = event.dataTransfer.files[0];
        if (file) onFile(file);
      }}
    >
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="file"
        accept={accept}
        aria-describedby={`${id}-hint`}
        onChange={(event) => {
          const file = event.currentTarget.files?.[0];
          event.currentTarget.value = '';
          if (file) onFile(file);
        }}
      />
      <p className="hint" id={`${id}-hint`}>
        {hint}
      </p>
    </div>
  );
};
