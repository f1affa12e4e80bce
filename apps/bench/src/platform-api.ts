/** A bench's set-up through the platform's API (fetch: not what is measured), and reading its /metrics. */

export interface SignedIn {
  id: string;
  token: string;
}

/** A set-up call (JSON) that must answer one of `expected`: any other status stops the run with what it got. */
export const call = async (
  url: string,
  init: { method?: string; token?: string; body?: unknown },
  expected: number[],
): Promise<{ status: number; body: unknown }> => {
  const method = init.method ?? (init.body === undefined ? 'GET' : 'POST');
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
    ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
  });
  const text = await response.text();
  if (!expected.includes(response.status)) throw new Error(`${method} ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
};

/** Registers `<label>.<stamp>@example.com` (named `name`) through `api` and signs it in. */
export const signUp = async (api: string, label: string, stamp: number, name = label): Promise<SignedIn> => {
  const credentials = { email: `${label}.${stamp}@example.com`, password: 'benchmark passphrase' };
  const registered = (await call(`${api}/auth/register`, { body: { ...credentials, name } }, [201])).body as { id: string };
  const login = (await call(`${api}/auth/login`, { body: credentials }, [200])).body as { access_token: string };
  return { id: registered.id, token: login.access_token };
};

/** The samples of a Prometheus exposition named `name` whose line contains every one of `having`, summed. */
export const sumOf = (text: string, name: string, having: string[] = []): number =>
  text
    .split('\n')
    .filter((line) => (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) && having.every((part) => line.includes(part)))
    .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
