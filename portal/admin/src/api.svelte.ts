// The console's only door to the hub: its HTTP API with the admin's token. A failure throws an
// ApiError whose code the page turns into a sentence; nothing here renders user text.
import type * as wire from '../../../web/wire.gen';

/** ApiError is a failed call: the hub's wire code (NETWORK when the hub did not answer). */
export class ApiError extends Error {
  constructor(
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

/** org is the organisation in the page's path, /admin/{org}. */
export const org = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');

const tokenKey = `parley-admin:${org}`;

export const auth = $state({ token: sessionStorage.getItem(tokenKey) ?? '' });

export function setToken(token: string): void {
  auth.token = token;
  if (token) sessionStorage.setItem(tokenKey, token);
  else sessionStorage.removeItem(tokenKey);
}

/** call sends a request to the hub's API and decodes its JSON answer. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...(auth.token ? { Authorization: `Bearer ${auth.token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError('NETWORK', 'the hub did not answer');
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError((data as wire.Error).code ?? 'EINTERNAL', (data as wire.Error).message ?? res.statusText);
  return data as T;
}

/** download fetches a file from the API with the token and saves it under name. */
export async function download(path: string, name: string): Promise<void> {
  const res = await fetch(path, { headers: { Authorization: `Bearer ${auth.token}` } });
  if (!res.ok) {
    const data = await res.json().catch(() => ({}));
    throw new ApiError((data as wire.Error).code ?? 'EINTERNAL', res.statusText);
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** orgPath is an API path under the page's organisation. */
export const orgPath = (p = '') => `/api/v1/orgs/${encodeURIComponent(org)}${p}`;
