/**
 * Who wrote what: posts, comments and feed entries carry user ids only. A name is read from the
 * user's profile (`GET /api/v1/users/{id}`, signed-in users only; a private profile answers 404 and
 * shows no name) and a post's title from the post, each once per session and id.
 */
import { useEffect, useState } from 'react';
import { Link } from 'wouter';
import { api, onSessionChange } from './api';
import { paths, readPost } from './content-api';
import { useSession } from './session';
import type { PublicProfile } from './types';

const caches = { user: new Map<string, Promise<string | null>>(), post: new Map<string, Promise<string | null>>() };
const readers = {
  user: (id: string) => api<PublicProfile>('GET', paths.user(id)).then((profile) => profile.name),
  post: (id: string) => readPost(id).then((post) => post.title),
};

/** Another user may see other names and drafts: a new session (or none) reads them again. */
onSessionChange(() => forgetNames());

/** Forgets what was read (after the user renamed themself, say). */
export const forgetNames = (): void => {
  caches.user.clear();
  caches.post.clear();
};

const useCached = (kind: keyof typeof caches, id: string | undefined): string | null | undefined => {
  const [found, setFound] = useState<{ id: string; value: string | null }>();
  useEffect(() => {
    if (!id) return;
    let current = true;
    let promise = caches[kind].get(id);
    if (!promise) {
      promise = readers[kind](id).catch(() => null);
      caches[kind].set(id, promise);
    }
    void promise.then((value) => current && setFound({ id, value }));
    return () => {
      current = false;
    };
  }, [kind, id]);
  return id && found?.id === id ? found.value : undefined;
};

/** The session is known (restored from the cookie, or none): reads may start, with the token if any. */
export const useSessionKnown = (): boolean => useSession().state.status !== 'loading';

/** A user's name: undefined while it is read, null when the caller may not see it (signed out, a private profile). */
export const useUserName = (id: string): string | null | undefined => {
  const { state } = useSession();
  const me = state.status === 'signed-in' ? state.user : undefined;
  const fetched = useCached('user', me && me.id !== id ? id : undefined);
  if (state.status === 'loading') return undefined;
  if (!me) return null;
  return me.id === id ? me.name : fetched;
};

/** A post's title: undefined while it is read, null when it is gone (or a draft the caller may not see). */
export const usePostTitle = (id: string): string | null | undefined => useCached('post', useSessionKnown() ? id : undefined);

export const UNNAMED = 'a Galion member';

/** A link to a user's page, named after them when the caller may see their name. */
export const UserLink = ({ id }: { id: string }) => {
  const name = useUserName(id);
  return <Link href={`/users/${id}`}>{name === undefined ? '…' : (name ?? UNNAMED)}</Link>;
};
