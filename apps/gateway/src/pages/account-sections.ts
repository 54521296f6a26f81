import type { ApiTokenView, CallContext, LoginHistoryEntry } from '@musubi/contracts';
import type { BusClient } from '@musubi/platform/bus';
import { esc } from './html.js';
import type { Lang } from './i18n.js';

const TEXTS = {
  ja: {
    logins: '最近のサインイン',
    loginsEmpty: 'サインインの記録はまだありません。',
    loginsUnavailable: 'サインインの記録を今は表示できません。',
    success: '成功',
    failure: '失敗',
    newDevice: '新しいデバイス',
    from: '接続元',
    tokens: 'あなたの API トークン',
    tokensEmpty: 'API トークンはありません。',
    tokensUnavailable: 'API トークンを今は表示できません。',
    expires: '有効期限',
    lastUsed: '最終使用',
    never: '未使用',
    revoked: '失効済み',
    expired: '期限切れ',
    revoke: '失効させる',
  },
  en: {
    logins: 'Recent sign-ins',
    loginsEmpty: 'No sign-ins recorded yet.',
    loginsUnavailable: 'Your sign-ins cannot be shown right now.',
    success: 'Succeeded',
    failure: 'Failed',
    newDevice: 'New device',
    from: 'from',
    tokens: 'Your API tokens',
    tokensEmpty: 'You have no API tokens.',
    tokensUnavailable: 'Your API tokens cannot be shown right now.',
    expires: 'Expires',
    lastUsed: 'Last used',
    never: 'never',
    revoked: 'Revoked',
    expired: 'Expired',
    revoke: 'Revoke',
  },
} as const satisfies Record<Lang, Record<string, string>>;

/** How many of the (up to 100) recorded sign-ins the page lists. */
const LOGINS_SHOWN = 20;

export interface AccountSectionsInput {
  readonly tenantId: string;
  readonly userId: string;
  readonly slug: string;
  readonly lang: Lang;
  readonly timeZone: string;
  readonly csrf: string;
  readonly ctx: CallContext;
}

/**
 * The account page's "recent sign-ins" (from audit, a new device marked) and
 * "your API tokens" (with a revoke button each). Both are asked as the user
 * themselves (no roles: audit answers a user's own history, authn lists only
 * their own tokens, whatever roles they hold). A service that does not answer
 * leaves its section saying so; the rest of the page still works.
 */
export async function accountSections(bus: BusClient, a: AccountSectionsInput): Promise<string> {
  const t = TEXTS[a.lang];
  const self: CallContext = { ...a.ctx, tenantId: a.tenantId, caller: { kind: 'user', userId: a.userId, tenantId: a.tenantId, roles: [] } };
  const [history, tokens] = await Promise.all([
    bus.request('musubi.audit.login-history.list.v1', { tenantId: a.tenantId, userId: a.userId }, self).catch(() => null),
    bus.request('musubi.authn.api-token.list.v1', { tenantId: a.tenantId }, self).catch(() => null),
  ]);
  const fmt = (iso: string) => new Date(iso).toLocaleString(a.lang === 'ja' ? 'ja-JP' : 'en-US', { timeZone: a.timeZone });
  return `${loginsSection(history?.items ?? null, t, fmt)}\n${tokensSection(tokens?.items.filter((x) => x.createdBy === a.userId) ?? null, t, fmt, a)}`;
}

type Texts = (typeof TEXTS)[Lang];

function loginsSection(items: readonly LoginHistoryEntry[] | null, t: Texts, fmt: (iso: string) => string): string {
  const head = `<h2>${esc(t.logins)}</h2>`;
  if (items === null) return `${head}\n<p class="notice" id="logins-unavailable">${esc(t.loginsUnavailable)}</p>`;
  if (items.length === 0) return `${head}\n<p class="hint" id="logins-empty">${esc(t.loginsEmpty)}</p>`;
  const rows = items
    .slice(0, LOGINS_SHOWN)
    .map((e) => {
      const result = e.result === 'failure' ? t.failure : e.result === 'success' ? t.success : '';
      const badge = e.newDevice && e.result !== 'failure' ? ` · <strong class="new-device">${esc(t.newDevice)}</strong>` : '';
      return `<li class="login ${e.result === 'failure' ? 'failure' : 'success'}">
<div>${esc(fmt(e.occurredAt))} · ${esc(result)}${e.method ? ` (${esc(e.method)})` : ''}${badge}</div>
<div class="hint">${e.ip ? `${esc(t.from)} ${esc(e.ip)} · ` : ''}${esc((e.userAgent ?? '').slice(0, 120))}</div>
</li>`;
    })
    .join('\n');
  return `${head}\n<ul class="entries" id="logins">\n${rows}\n</ul>`;
}

function tokensSection(items: readonly ApiTokenView[] | null, t: Texts, fmt: (iso: string) => string, a: AccountSectionsInput): string {
  const head = `<h2>${esc(t.tokens)}</h2>`;
  if (items === null) return `${head}\n<p class="notice" id="tokens-unavailable">${esc(t.tokensUnavailable)}</p>`;
  if (items.length === 0) return `${head}\n<p class="hint" id="tokens-empty">${esc(t.tokensEmpty)}</p>`;
  const now = Date.now();
  const rows = items
    .map((x) => {
      const state = x.revokedAt ? t.revoked : Date.parse(x.expiresAt) <= now ? t.expired : null;
      const revoke = state
        ? ` · <strong>${esc(state)}</strong>`
        : `<form method="post" action="/t/${esc(a.slug)}/account/api-tokens/revoke"><input type="hidden" name="csrf" value="${esc(a.csrf)}"><input type="hidden" name="tokenId" value="${esc(x.id)}"><button type="submit">${esc(t.revoke)}</button></form>`;
      return `<li class="api-token" data-token-id="${esc(x.id)}">
<div><strong class="token-name">${esc(x.name)}</strong> <code>${esc(x.prefix)}…</code> · ${esc(x.scopes.join(', '))}${state ? revoke : ''}</div>
<div class="hint">${esc(t.expires)} ${esc(fmt(x.expiresAt))} · ${esc(t.lastUsed)} ${esc(x.lastUsedAt ? fmt(x.lastUsedAt) : t.never)}</div>
${state ? '' : revoke}
</li>`;
    })
    .join('\n');
  return `${head}\n<ul class="entries" id="api-tokens">\n${rows}\n</ul>`;
}
