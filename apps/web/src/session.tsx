import { createTracker, type Tracker } from '@galion/track';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, currentAccessToken, onSessionChange, refreshSession, setAccessToken, type TokenAnswer } from './api';
import type { AuthUser } from './types';

type SessionState = { status: 'loading' } | { status: 'signed-out' } | { status: 'signed-in'; user: AuthUser };

interface Session {
  state: SessionState;
  login(email: string, password: string): Promise<void>;
  logout(): Promise<void>;
  /** Reads the account again (after verifying the address, say). */
  reload(): Promise<void>;
  /** Forgets the session locally (the server already ended it: account deleted, password changed). */
  forget(): void;
}

const SessionContext = createContext<Session | undefined>(undefined);

let tracker: Tracker | undefined;
/**
 * The app's own page views (@galion/track), sent as the signed-in user with the access token:
 * the tracker starts once the session is known, so that the first page counts for a user whose
 * session a reload restored. It has no key, so while nobody is signed in it sends nothing (the
 * events of that time are dropped): Galion does not track people who have not signed up.
 */
const trackPageViews = (): void => {
  tracker ??= createTracker({ endpoint: '/api/v1/analytics/events', token: currentAccessToken });
};

export const SessionProvider = ({ children }: { children: ReactNode }) => {
  const [state, setState] = useState<SessionState>({ status: 'loading' });

  const reload = useCallback(async () => {
    setState({ status: 'signed-in', user: await api<AuthUser>('GET', '/api/v1/auth/me') });
  }, []);

  useEffect(() => {
    if (state.status !== 'loading') trackPageViews();
  }, [state.status]);

  // A reload of the page keeps the session: the refresh cookie gives a new access token.
  useEffect(() => {
    let cancelled = false;
    void (async () => {
      const restored = await refreshSession();
      if (cancelled) return;
      if (!restored) return setState({ status: 'signed-out' });
      await reload().catch(() => setState({ status: 'signed-out' }));
    })();
    const stop = onSessionChange((signedIn) => {
      if (!signedIn) setState({ status: 'signed-out' });
    });
    return () => {
      cancelled = true;
      stop();
    };
  }, [reload]);

  const login = useCallback(
    async (email: string, password: string) => {
      const answer = await api<TokenAnswer>('POST', '/api/v1/auth/login', { email, password, session: 'cookie' });
      setAccessToken(answer.access_token);
      await reload();
    },
    [reload],
  );

  const logout = useCallback(async () => {
    try {
      await api('POST', '/api/v1/auth/logout', {}, { csrf: true });
    } finally {
      setAccessToken(undefined);
    }
  }, []);

  const forget = useCallback(() => setAccessToken(undefined), []);

  const value = useMemo(() => ({ state, login, logout, reload, forget }), [state, login, logout, reload, forget]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
};

export const useSession = (): Session => {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
};
