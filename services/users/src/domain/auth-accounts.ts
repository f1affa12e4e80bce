import { dependencyUnavailable, notFound } from '@galion/kit';
import type { Role } from '@galion/tokens';

export interface AuthAccount {
  email: string;
  name: string;
  role: Role;
}

/** Reads an account from auth with the caller's own token, for a profile whose registration event is late. */
export interface AuthAccounts {
  currentAccount(bearerToken: string): Promise<AuthAccount>;
}

export class HttpAuthAccounts implements AuthAccounts {
  constructor(
    private readonly authUrl: string,
    private readonly timeoutMs = 3_000,
  ) {}

  async currentAccount(bearerToken: string): Promise<AuthAccount> {
    let response: Response;
    try {
      response = await fetch(`${this.authUrl}/api/v1/auth/me`, {
        headers: { authorization: `Bearer ${bearerToken}`, accept: 'application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw dependencyUnavailable('auth', error);
    }
    if (response.status === 404 || response.status === 401) throw notFound('This account no longer exists.', 'account_not_found');
    if (!response.ok) throw dependencyUnavailable('auth');
    const body = (await response.json()) as AuthAccount;
    return { email: body.email, name: body.name, role: body.role };
  }
}
