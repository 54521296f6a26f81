import type { SinkMessage } from './dev-mail-sink.js';

// The pages of the development mail sink. Everything taken from a message is
// escaped where it is written; nothing here runs script (the page CSP forbids it).

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an HTML element or a quoted attribute value. */
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

const STYLE = `
:root { color-scheme: light dark; font-family: system-ui, "Hiragino Sans", "Noto Sans JP", "Yu Gothic", sans-serif; }
body { margin: 1.5rem; }
h1 { font-size: 1.3rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .35rem .6rem; border-bottom: 1px solid color-mix(in srgb, CanvasText 15%, transparent); }
th { font-weight: 600; white-space: nowrap; }
td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; padding: .8rem; border: 1px solid color-mix(in srgb, CanvasText 20%, transparent); border-radius: .4rem; }
iframe { width: 100%; height: 32rem; border: 1px solid color-mix(in srgb, CanvasText 20%, transparent); border-radius: .4rem; background: #fff; }
.muted { opacity: .7; }
`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>`;
}

const time = (iso: string) => `<time datetime="${escapeHtml(iso)}">${escapeHtml(iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'))}</time>`;
const messageHref = (id: string) => `/messages/${encodeURIComponent(id)}`;

export function renderListPage(messages: readonly SinkMessage[]): string {
  const rows = messages
    .map(
      (m) => `<tr>
<td class="time">${time(m.receivedAt)}</td>
<td>${escapeHtml(m.from)}</td>
<td>${escapeHtml(m.to || m.envelope.to.join(', '))}</td>
<td>${escapeHtml(m.subject)}</td>
<td><a href="${escapeHtml(messageHref(m.id))}">open</a></td>
</tr>`,
    )
    .join('\n');
  const body = messages.length
    ? `<table>
<thead><tr><th>Received</th><th>From</th><th>To</th><th>Subject</th><th></th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`
    : '<p class="muted">No mail yet.</p>';
  return layout('Mail sink', `<h1>Mail sink <span class="muted">(${messages.length}, newest first)</span></h1>\n${body}`);
}

/** Plain text with its http(s) links made clickable, everything escaped. */
function linkify(text: string): string {
  const out: string[] = [];
  let last = 0;
  for (const match of text.matchAll(/https?:\/\/[^\s<>"']+/g)) {
    const url = match[0].replace(/[.,;:!?)\]]+$/, '');
    const at = match.index;
    out.push(escapeHtml(text.slice(last, at)), `<a href="${escapeHtml(url)}" rel="noreferrer noopener">${escapeHtml(url)}</a>`);
    last = at + url.length;
  }
  out.push(escapeHtml(text.slice(last)));
  return out.join('');
}

export function renderMessagePage(m: SinkMessage): string {
  const headerRows = Object.entries(m.headers)
    .flatMap(([name, value]) => (typeof value === 'string' ? [value] : value).map((v) => `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(v)}</td></tr>`))
    .join('\n');
  const attachments = m.attachments.length
    ? `<h2>Attachments (not kept)</h2>\n<ul>${m.attachments
        .map((a) => `<li>${escapeHtml(a.filename ?? '(no name)')} <span class="muted">${escapeHtml(a.contentType)}, ${a.size} bytes</span></li>`)
        .join('')}</ul>`
    : '';
  const body = `<p><a href="/">← all mail</a> · <a href="/api/messages/${escapeHtml(encodeURIComponent(m.id))}">JSON</a></p>
<h1>${escapeHtml(m.subject || '(no subject)')}</h1>
<table>
<tr><th>From</th><td>${escapeHtml(m.from)}</td></tr>
<tr><th>To</th><td>${escapeHtml(m.to)}</td></tr>
<tr><th>Envelope</th><td>${escapeHtml(m.envelope.from ?? '<>')} → ${escapeHtml(m.envelope.to.join(', '))}</td></tr>
<tr><th>Date</th><td>${m.date ? time(m.date) : ''}</td></tr>
<tr><th>Received</th><td>${time(m.receivedAt)}</td></tr>
</table>
<h2>Text</h2>
${m.text === null ? '<p class="muted">No text part.</p>' : `<pre>${linkify(m.text)}</pre>`}
<h2>HTML</h2>
${
  m.html === null
    ? '<p class="muted">No HTML part.</p>'
    : // An empty sandbox: no script, no forms, no navigation of this page, an opaque origin.
      `<iframe sandbox srcdoc="${escapeHtml(m.html)}" title="HTML part" referrerpolicy="no-referrer"></iframe>`
}
${attachments}
<h2>Headers</h2>
<table>
${headerRows}
</table>`;
  return layout(`${m.subject || '(no subject)'} – Mail sink`, body);
}

export function renderNotFoundPage(): string {
  return layout('Not found – Mail sink', '<h1>Not found</h1>\n<p><a href="/">← all mail</a></p>');
}
