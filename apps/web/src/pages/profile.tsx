import { useEffect, useRef, useState } from 'react';
import { Link, useLocation, useSearchParams } from 'wouter';
import { api } from '../api';
import { Avatar } from '../avatar';
import { formatBytes, IMAGE_FORMATS, IMAGE_TYPES, MAX_UPLOAD_BYTES, removeAvatar, setAvatar, uploadImage } from '../media-api';
import { forgetNames } from '../names';
import { useSession } from '../session';
import type { AuthUser, Profile } from '../types';
import { ActionForm, ErrorMessage, Field, FilePicker, FormError, Loading, Page } from '../ui';

const optional = (value: FormDataEntryValue | null): string | null => {
  const text = String(value ?? '').trim();
  return text === '' ? null : text;
};

/**
 * The avatar: a new picture uploaded from here becomes it at once (it is kept in my images), or it
 * is removed. Media tells the users service, which sets the profile's `avatar_url` a moment later
 * (docs/media.md); this page shows the new one meanwhile.
 */
const AvatarSection = ({ profile, onChange }: { profile: Profile; onChange: (avatarUrl: string | null) => void }) => {
  const [busy, setBusy] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [note, setNote] = useState<string>();
  const heading = useRef<HTMLHeadingElement>(null);
  /** Runs one change at a time; true when it was made. */
  const run = async (doing: string, change: () => Promise<string | null>, done: string): Promise<boolean> => {
    setNote(undefined);
    if (busy) {
      setError(new FormError('Wait a moment: the last change is not finished.'));
      return false;
    }
    setError(undefined);
    setBusy(doing);
    try {
      onChange(await change());
      setNote(done);
      return true;
    } catch (caught) {
      setError(caught);
      return false;
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <section aria-labelledby="avatar-title">
      <h2 id="avatar-title" ref={heading} tabIndex={-1}>
        My avatar
      </h2>
      <div className="person">
        <Avatar url={profile.avatar_url} name={profile.name} alt="My avatar" large />
        <div>
          {profile.avatar_url ? null : <p>No avatar yet: people see your initials.</p>}
          <FilePicker
            label="Upload a new avatar"
            hint={`Choose a file, or drop it here: ${IMAGE_FORMATS}, up to ${formatBytes(MAX_UPLOAD_BYTES)}. It is kept in your images.`}
            accept={IMAGE_TYPES.join(',')}
            onFile={(file) =>
              void run(
                `Uploading ${file.name}…`,
                async () => (await setAvatar((await uploadImage(file)).id)).url,
                'Your new avatar is set.',
              )
            }
          />
          <p className="buttons">
            {profile.avatar_url ? (
              <button
                type="button"
                className="secondary"
                onClick={() =>
                  // The button goes with the avatar: the focus goes to the heading.
                  void run('Removing your avatar…', removeAvatarEverywhere, 'Your avatar is removed.').then(
                    (removed) => removed && heading.current?.focus(),
                  )
                }
              >
                Remove avatar
              </button>
            ) : null}
            <Link href="/images">Choose one of my images</Link>
          </p>
        </div>
      </div>
      <div role="status" aria-live="polite">
        {busy ? <p className="loading">{busy}</p> : note ? <p>{note}</p> : null}
      </div>
      <ErrorMessage error={error} />
    </section>
  );
};

/**
 * Clears media's avatar, and the profile's `avatar_url` at once: that also removes an address set
 * by hand through the API, which is no image of media's (the event of the clearing then finds the
 * profile cleared already).
 */
const removeAvatarEverywhere = async (): Promise<null> => {
  await removeAvatar();
  await api<Profile>('PATCH', '/api/v1/users/me', { avatar_url: null });
  return null;
};

export const ProfilePage = ({ user }: { user: AuthUser }) => {
  const { reload } = useSession();
  const [params] = useSearchParams();
  const [profile, setProfile] = useState<Profile>();
  const [loadError, setLoadError] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  const [mailSent, setMailSent] = useState(false);
  useEffect(() => {
    api<Profile>('GET', '/api/v1/users/me').then(setProfile, setLoadError);
  }, []);

  return (
    <Page title="My profile">
      {params.get('welcome') ? <p role="status">Welcome to Galion. A link to confirm your address is in your mail.</p> : null}
      <p className="next-step">
        <Link href="/feed">Go to your home feed</Link>: new posts of the people you follow, and comments on your posts.
      </p>
      <dl className="facts">
        <dt>Email</dt>
        <dd>
          {user.email}{' '}
          <span className={user.email_verified ? 'badge ok' : 'badge'}>{user.email_verified ? 'verified' : 'not verified'}</span>
        </dd>
        <dt>Role</dt>
        <dd>{user.role}</dd>
        <dt>Member since</dt>
        <dd>{new Date(user.created_at).toLocaleDateString()}</dd>
        {profile ? (
          <>
            <dt>Follows</dt>
            <dd>
              <Link href={`/users/${user.id}/followers`}>
                {profile.followers_count} {profile.followers_count === 1 ? 'follower' : 'followers'}
              </Link>
              {' · '}
              <Link href={`/users/${user.id}/following`}>
                follows {profile.following_count} {profile.following_count === 1 ? 'person' : 'people'}
              </Link>
            </dd>
          </>
        ) : null}
      </dl>
      <p>
        <Link href={`/users/${user.id}`}>My page as others see it</Link> · <Link href="/posts/mine">My posts</Link>
      </p>
      {!user.email_verified ? (
        mailSent ? (
          <p role="status">A new confirmation link is on its way to {user.email}.</p>
        ) : (
          <ActionForm
            label="Confirm my address"
            submit="Send the confirmation link again"
            action={async () => {
              await api('POST', '/api/v1/auth/email/verify-request', {});
              setMailSent(true);
            }}
          >
            <p>Your address is not confirmed yet.</p>
          </ActionForm>
        )
      ) : null}

      {profile ? <AvatarSection profile={profile} onChange={(avatarUrl) => setProfile({ ...profile, avatar_url: avatarUrl })} /> : null}

      <h2>About me</h2>
      {loadError ? <ErrorMessage error={loadError} /> : null}
      {!profile && !loadError ? <Loading what="your profile" /> : null}
      {profile ? (
        <ActionForm
          label="Edit my profile"
          submit="Save"
          action={async (data) => {
            setSaved(false);
            const updated = await api<Profile>('PATCH', '/api/v1/users/me', {
              name: String(data.get('name') ?? '').trim(),
              bio: optional(data.get('bio')),
              locale: optional(data.get('locale')),
              timezone: optional(data.get('timezone')),
              is_public: data.get('is_public') === 'on',
            });
            setProfile(updated);
            setSaved(true);
            forgetNames();
            await reload();
          }}
        >
          <Field label="Name" name="name" defaultValue={profile.name} required maxLength={100} autoComplete="name" />
          <div className="field">
            <label htmlFor="bio">Bio</label>
            <textarea id="bio" name="bio" defaultValue={profile.bio ?? ''} maxLength={1000} rows={4} />
          </div>
          <Field label="Language" name="locale" defaultValue={profile.locale ?? ''} hint="A language tag such as en or pt-BR." />
          <Field label="Time zone" name="timezone" defaultValue={profile.timezone ?? ''} hint="Such as Europe/Paris." />
          <div className="field checkbox">
            <input id="is_public" name="is_public" type="checkbox" defaultChecked={profile.is_public} />
            <label htmlFor="is_public">Let other signed-in users see my name, bio and avatar</label>
          </div>
          {saved ? <p role="status">Saved.</p> : null}
        </ActionForm>
      ) : null}

      <h2>Security</h2>
      <p>
        <Link href="/password">Change my password</Link> · <Link href="/delete-account">Delete my account</Link>
      </p>
    </Page>
  );
};

export const ChangePasswordPage = () => {
  const { forget } = useSession();
  const [, navigate] = useLocation();
  return (
    <Page title="Change my password">
      <ActionForm
        label="Change my password"
        submit="Change the password"
        action={async (data) => {
          await api('POST', '/api/v1/auth/password', {
            current_password: String(data.get('current') ?? ''),
            new_password: String(data.get('new') ?? ''),
          });
          // Changing the password ends every session, this one too.
          forget();
          navigate('/login?reason=password-changed');
        }}
      >
        <Field label="Current password" name="current" type="password" autoComplete="current-password" required />
        <Field
          label="New password"
          name="new"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          hint="At least 8 characters."
        />
      </ActionForm>
    </Page>
  );
};

export const DeleteAccountPage = ({ user }: { user: AuthUser }) => {
  const { forget } = useSession();
  const [, navigate] = useLocation();
  return (
    <Page title="Delete my account">
      <p>
        This deletes the account <strong>{user.email}</strong> and its profile, and ends every session. It cannot be undone.
      </p>
      <ActionForm
        label="Delete my account"
        submit="Delete my account for good"
        action={async (data) => {
          if (String(data.get('confirm') ?? '').trim() !== user.email) {
            throw new FormError(`Type ${user.email} exactly to confirm.`);
          }
          await api('DELETE', '/api/v1/users/me');
          forget();
          navigate('/login?reason=deleted');
        }}
      >
        <Field label={`Type ${user.email} to confirm`} name="confirm" type="text" autoComplete="off" required />
      </ActionForm>
      <p>
        <Link href="/profile">Keep my account</Link>
      </p>
    </Page>
  );
};
