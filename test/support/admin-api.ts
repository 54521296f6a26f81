import type { MeView, TenantView, UserView } from '@musubi/contracts';
import { operatorFetch, type TestFleet } from './test-fleet.js';
import { WebClient } from './web-client.js';

/** The password people signed in by these helpers choose when their one-time password is used. */
export const NEW_PASSWORD = 'a long enough passphrase 2026';

type Fleet = Pick<TestFleet, 'gatewayUrl' | 'operatorToken'>;

/** An admin API call as the platform operator that must succeed; its JSON body. */
export async function operatorJson<T>(f: Fleet, path: string, init: RequestInit = {}): Promise<T> {
  const res = await operatorFetch(f, path, init);
  if (res.status >= 300) throw new Error(`${init.method ?? 'GET'} ${path} → ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** A person signed in to the hosted login, as an admin console holds them: the browser-like client and the CSRF token. */
export interface ConsoleSession {
  readonly web: WebClient;
  readonly csrf: string;
  readonly user: UserView;
}

/** Creates a user with these roles, signs them in with a one-time password (changing it) and reads their CSRF token. */
export async function consoleSession(f: Fleet, tenant: TenantView, local: string, roles: readonly string[]): Promise<ConsoleSession> {
  const users = `/api/v1/tenants/${tenant.id}/users`;
  const user = await operatorJson<UserView>(f, users, { method: 'POST', body: JSON.stringify({ loginId: `${local}@${tenant.platformDomain}`, roles }) });
  const otp = await operatorJson<{ temporaryPassword: string }>(f, `${users}/${user.id}/temporary-password`, { method: 'POST' });
  const web = new WebClient(f.gatewayUrl);
  await web.signIn(tenant.slug, user.loginId, otp.temporaryPassword, NEW_PASSWORD);
  const me = (await (await web.fetch('/api/v1/me')).json()) as MeView;
  return { web, csrf: me.csrfToken, user };
}
