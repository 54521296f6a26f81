import type { Lang } from './i18n.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** Strict CSP for hosted pages: our stylesheets only, forms post to ourselves, never framed. */
export const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const httpsOrigin = (url: string | null): string | null => {
  if (!url) return null;
  try {
    const origin = new URL(url).origin;
    return origin.startsWith('https://') ? origin : null;
  } catch {
    return null;
  }
};

/**
 * The page CSP, allowing the tenant's logo from its https origin, and its
 * logout landing page as a form target (browsers apply form-action to the
 * redirect that follows signing out).
 */
export function pageCsp(logoUrl: string | null, logoutUrl: string | null = null): string {
  let csp = PAGE_CSP;
  const logo = httpsOrigin(logoUrl);
  const landing = httpsOrigin(logoutUrl);
  if (logo) csp = csp.replace("img-src 'self' data:", `img-src 'self' data: ${logo}`);
  if (landing) csp = csp.replace("form-action 'self'", `form-action 'self' ${landing}`);
  return csp;
}

export interface PageOptions {
  readonly lang: Lang;
  readonly title: string;
  readonly tenantName: string;
  readonly body: string;
  /** The tenant's theme stylesheet (its accent colour), e.g. `/t/acme/theme.css`. */
  readonly themeHref?: string;
  readonly logoUrl?: string | null;
}

export function page(o: PageOptions): string {
  return `<!doctype html>
<html lang="${o.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(o.title)} – ${esc(o.tenantName)}</title>
<link rel="stylesheet" href="/assets/musubi.css">${o.themeHref ? `\n<link rel="stylesheet" href="${esc(o.themeHref)}">` : ''}
</head>
<body>
<main class="card">
${o.logoUrl ? `<img class="logo" src="${esc(o.logoUrl)}" alt="${esc(o.tenantName)}">\n` : ''}<p class="tenant">${esc(o.tenantName)}</p>
<h1>${esc(o.title)}</h1>
${o.body}
</main>
</body>
</html>`;
}

export function errorBox(message: string | undefined): string {
  return message ? `<p class="error" role="alert">${esc(message)}</p>` : '';
}

export const STYLESHEET = `
:root { color-scheme: light dark; --accent: #2f5d8a; font-family: system-ui, "Hiragino Sans", "Noto Sans JP", "Yu Gothic", sans-serif; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: Canvas; color: CanvasText; }
.card { width: min(26rem, 92vw); padding: 2rem; border: 1px solid color-mix(in srgb, CanvasText 20%, transparent); border-radius: .75rem; }
.tenant { margin: 0 0 .25rem; font-size: .9rem; opacity: .75; }
h1 { margin: 0 0 1.25rem; font-size: 1.4rem; }
label { display: block; margin: .9rem 0 .3rem; font-weight: 600; }
input[type=text], input[type=email], input[type=password] { box-sizing: border-box; width: 100%; padding: .6rem; font-size: 1rem; border-radius: .4rem; border: 1px solid color-mix(in srgb, CanvasText 35%, transparent); }
button { margin-top: 1.25rem; width: 100%; padding: .7rem; font-size: 1rem; border: 0; border-radius: .4rem; background: var(--accent); color: #fff; cursor: pointer; }
.error { padding: .6rem .8rem; border-radius: .4rem; background: #fde8e8; color: #8a1f1f; }
.notice { padding: .6rem .8rem; border-radius: .4rem; background: #e8f1fd; color: #1f3f8a; }
.hint { font-size: .85rem; opacity: .75; margin: .3rem 0 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .4rem 1rem; }
a { color: var(--accent); }
.logo { display: block; max-height: 3rem; max-width: 100%; margin-bottom: .75rem; }
.links { margin-top: 1rem; font-size: .9rem; }
.sessions, .entries { list-style: none; padding: 0; }
.sessions li, .entries li { padding: .5rem 0; border-bottom: 1px solid color-mix(in srgb, CanvasText 15%, transparent); }
.sessions form button, .entries form button { width: auto; margin-top: .3rem; padding: .3rem .8rem; font-size: .85rem; }
.check { display: flex; gap: .5rem; align-items: center; font-weight: normal; }
`;
