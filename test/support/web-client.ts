/**
 * A minimal browser stand-in for HTTP tests: keeps cookies like a browser would
 * (by name; __Host- cookies are sent to the one origin they came from) and
 * submits the hosted login forms with their CSRF field.
 */
export class WebClient {
  readonly cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  private remember(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  cookieHeader(): string {
    return [...this.cookies.entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', this.cookieHeader());
    const res = await fetch(`${this.base}${path}`, { ...init, headers, redirect: 'manual' });
    this.remember(res);
    return res;
  }

  /** GETs a page and POSTs its form back with the hidden CSRF field and the given fields. */
  async submit(pagePath: string, postPath: string, fields: Record<string, string>): Promise<Response> {
    const page = await (await this.fetch(pagePath)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    return this.fetch(postPath, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, ...fields }).toString(),
    });
  }

  /** Signs in on a tenant's hosted login page; with a one-time password, also sets `newPassword`. */
  async signIn(slug: string, loginId: string, password: string, newPassword?: string): Promise<void> {
    const res = await this.submit(`/t/${slug}/login`, `/t/${slug}/login`, { loginId, password });
    if (res.status !== 303) throw new Error(`sign-in failed with ${res.status}`);
    if (res.headers.get('location')?.endsWith('/password')) {
      if (!newPassword) throw new Error('this user must change the one-time password first');
      const changed = await this.submit(`/t/${slug}/password`, `/t/${slug}/password`, { currentPassword: password, newPassword, confirmPassword: newPassword });
      if (changed.status !== 303) throw new Error(`password change failed with ${changed.status}`);
    }
  }
}
