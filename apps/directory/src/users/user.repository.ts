import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AdminRole, Im, Phone, UserSort } from '@musubi/contracts';
import { pgError, runSql, txOf, type Tx } from '@musubi/platform/db';
import { DomainError } from '@musubi/platform/errors';
import type { LiveStatus, PurgeCandidate, User, UserKeyset, UserListPage, UserListQuery } from './user.js';

interface UserRow {
  id: string;
  tenant_id: string;
  login_id: string;
  display_name: string;
  family_name: string | null;
  given_name: string | null;
  family_name_kana: string | null;
  given_name_kana: string | null;
  email: string | null;
  department: string | null;
  title: string | null;
  locale: User['locale'];
  extra_emails: string[];
  phones: Phone[];
  ims: Im[];
  entitlements: string[];
  personal_email: string | null;
  personal_mobile: string | null;
  external_id: string | null;
  app_linking_id: string | null;
  roles: AdminRole[];
  status: LiveStatus;
  restore_status: User['restoreStatus'];
  created_at: Date;
  updated_at: Date;
  last_sign_in_at: Date | null;
  password_changed_at: Date | null;
  deleted_at: Date | null;
  version: number;
}

const FIELDS = [
  'id',
  'tenant_id',
  'login_id',
  'display_name',
  'family_name',
  'given_name',
  'family_name_kana',
  'given_name_kana',
  'email',
  'department',
  'title',
  'locale',
  'extra_emails',
  'phones',
  'ims',
  'entitlements',
  'personal_email',
  'personal_mobile',
  'external_id',
  'app_linking_id',
  'roles',
  'status',
  'restore_status',
  'created_at',
  'updated_at',
  'last_sign_in_at',
  'password_changed_at',
  'deleted_at',
  'version',
] as const satisfies ReadonlyArray<keyof UserRow>;

const COLUMNS = FIELDS.join(', ');
const COLUMNS_OF = (alias: string) => FIELDS.map((f) => `${alias}.${f}`).join(', ');
/** Every statement about users leaves purged tombstones out: they are not users any more. */
const LIVE = `status <> 'purged'`;

const toDomain = (r: UserRow): User => ({
  id: r.id,
  tenantId: r.tenant_id,
  loginId: r.login_id,
  displayName: r.display_name,
  familyName: r.family_name,
  givenName: r.given_name,
  familyNameKana: r.family_name_kana,
  givenNameKana: r.given_name_kana,
  email: r.email,
  department: r.department,
  title: r.title,
  locale: r.locale,
  extraEmails: r.extra_emails,
  phones: r.phones,
  ims: r.ims,
  entitlements: r.entitlements,
  personalEmail: r.personal_email,
  personalMobile: r.personal_mobile,
  externalId: r.external_id,
  appLinkingId: r.app_linking_id,
  roles: r.roles,
  status: r.status,
  restoreStatus: r.restore_status,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  lastSignInAt: r.last_sign_in_at,
  passwordChangedAt: r.password_changed_at,
  deletedAt: r.deleted_at,
  version: r.version,
});

const toParams = (u: User): unknown[] => [
  u.id,
  u.tenantId,
  u.loginId,
  u.displayName,
  u.familyName,
  u.givenName,
  u.familyNameKana,
  u.givenNameKana,
  u.email,
  u.department,
  u.title,
  u.locale,
  [...u.extraEmails],
  JSON.stringify(u.phones),
  JSON.stringify(u.ims),
  [...u.entitlements],
  u.personalEmail,
  u.personalMobile,
  u.externalId,
  u.appLinkingId,
  [...u.roles],
  u.status,
  u.restoreStatus,
  u.createdAt,
  u.updatedAt,
  u.lastSignInAt,
  u.passwordChangedAt,
  u.deletedAt,
  u.version,
];

/** The unique indexes, and what a clash on each tells the caller. */
function clash(err: unknown): DomainError | null {
  switch (pgError(err)?.constraint) {
    case 'users_tenant_login_id_key':
      return new DomainError('login_id_taken', 'Another user of this tenant already has this login ID.', [{ pointer: '/loginId', detail: 'is already in use' }]);
    case 'users_tenant_external_id_key':
      return new DomainError('conflict', 'Another user of this tenant already has this external ID.', [{ pointer: '/externalId', detail: 'is already in use' }]);
    case 'users_tenant_app_linking_id_key':
      return new DomainError('conflict', 'Another user of this tenant already has this application-linking ID.', [{ pointer: '/appLinkingId', detail: 'is already in use' }]);
    default:
      return null;
  }
}

/** How each sort is stored: its key column (all in the "C" collation), and how its key reads and compares. */
const SORTS: Readonly<Record<UserSort, { column: string; time: boolean }>> = {
  loginId: { column: 'sort_login', time: false },
  displayName: { column: 'sort_display_name', time: false },
  familyNameKana: { column: 'sort_kana', time: false },
  createdAt: { column: 'created_at', time: true },
  updatedAt: { column: 'updated_at', time: true },
};

/**
 * How many rows, in list order, the first attempt at a filtered page reads
 * before it gives up on the sort index (see `list`).
 */
export const FILTER_WINDOW = 5000;

/**
 * How many characters of each word `user_search_terms` keeps (migration
 * 1795478400300): a query word at most this long is matched by the table
 * alone, a longer one is checked against the user's search vector as well.
 */
const TERM_CHARS = 60;
/** How many words of a query the terms table matches by itself (one bit each in a bigint). */
const MASK_WORDS = 62;
/** A query word with fewer entries in the terms table than this gives the candidates alone (see `searchPlan`). */
const RARE_WORD = 1000;
/** The entries of `user_search_terms` that a query word (an SQL expression) prefixes, in the tenant `$1`: one index range. */
const termRange = (word: string) => {
  const prefix = `left(${word}, ${TERM_CHARS}) COLLATE "C"`;
  return `t.tenant_id = $1 AND t.term >= ${prefix} AND t.term < (${prefix} || chr(1114111)) COLLATE "C"`;
};

/** A list statement being put together: its SQL text depends only on the shape of the query, never on values. */
class ListSql {
  readonly params: unknown[];
  private readonly sort: { column: string; time: boolean };
  private readonly dir: 'ASC' | 'DESC';

  constructor(private readonly query: UserListQuery) {
    this.params = [query.tenantId];
    this.sort = SORTS[query.sort];
    this.dir = query.descending ? 'DESC' : 'ASC';
  }

  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  /** The sort key as the cursor carries it (times with microseconds, as stored). */
  keyOf(alias: string): string {
    return this.sort.time ? `to_char(${alias}.${this.sort.column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')` : `${alias}.${this.sort.column}`;
  }

  sortColumn(alias: string): string {
    return `${alias}.${this.sort.column}`;
  }

  /** List order: by the sort key, then the id; `key` names the key where it is not the sort column itself. */
  orderBy(alias: string, key = this.sortColumn(alias)): string {
    return `${key} ${this.dir}, ${alias}.id ${this.dir}`;
  }

  /** Rows after the cursor, in list order (a row comparison the sort index answers). */
  after(alias: string, at: UserKeyset | null): string {
    if (!at) return '';
    const key = this.sort.time ? `${this.param(at.key)}::timestamptz` : `${this.param(at.key)}::text COLLATE "C"`;
    return ` AND (${this.sortColumn(alias)}, ${alias}.id) ${this.dir === 'ASC' ? '>' : '<'} (${key}, ${this.param(at.id)}::uuid)`;
  }

  /**
   * The filters as one condition, or null when there are none; `search: false`
   * leaves the search out (the caller matches it another way). Statuses come
   * from a closed set and are written in.
   */
  filters(alias: string, { search = true } = {}): string | null {
    const f = this.query.filter;
    const parts: string[] = [];
    if (f.status) parts.push(`${alias}.status = '${f.status}'`);
    if (f.domain) parts.push(`${alias}.login_domain = ${this.param(f.domain)}`);
    // A sub-select, so the query is parsed once per statement even in a generic plan, not once per row.
    if (f.q && search) parts.push(`${alias}.search_vector @@ (SELECT user_search_query(${this.param(f.q)}))`);
    if (f.groupId) {
      parts.push(
        `EXISTS (SELECT 1 FROM group_closure c JOIN group_members m ON m.group_id = c.descendant_id AND m.member_kind = 'user'
                 WHERE c.ancestor_id = ${this.param(f.groupId)} AND c.tenant_id = $1 AND m.member_id = ${alias}.id)`,
      );
    }
    return parts.length > 0 ? parts.join(' AND ') : null;
  }
}

interface ListedRow extends UserRow {
  cursor_key: string;
}

@Injectable()
export class UserRepository {
  /** Whether the groups feature's tables exist (they come with a later migration). */
  private groupTables: boolean | undefined;

  constructor(private readonly dataSource: DataSource) {}

  async insert(tx: Tx, u: User): Promise<void> {
    try {
      await runSql(this.dataSource, tx, `INSERT INTO users (${COLUMNS}) VALUES (${FIELDS.map((_, i) => `$${i + 1}`).join(', ')})`, toParams(u));
    } catch (err) {
      throw clash(err) ?? err;
    }
  }

  /**
   * Writes the user's new state if its version is still `previous.version`
   * (optimistic concurrency); returns false when someone changed it meanwhile.
   */
  async update(tx: Tx, previous: User, next: User): Promise<boolean> {
    const assignments = FIELDS.slice(2)
      .map((f, i) => `${f} = $${i + 3}`)
      .join(', ');
    try {
      const rows = await runSql<{ id: string }>(
        this.dataSource,
        tx,
        `UPDATE users SET ${assignments} WHERE id = $1 AND tenant_id = $2 AND version = $${FIELDS.length + 1} AND ${LIVE} RETURNING id`,
        [...toParams(next), previous.version],
      );
      return rows.length === 1;
    } catch (err) {
      throw clash(err) ?? err;
    }
  }

  async findById(tenantId: string, id: string): Promise<User | null> {
    const rows = await runSql<UserRow>(this.dataSource, undefined, `SELECT ${COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2 AND ${LIVE}`, [tenantId, id]);
    return rows[0] ? toDomain(rows[0]) : null;
  }

  /** Reads and locks the user until the transaction ends. */
  async lockById(tx: Tx, tenantId: string, id: string): Promise<User | null> {
    const rows = await runSql<UserRow>(this.dataSource, tx, `SELECT ${COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2 AND ${LIVE} FOR UPDATE`, [tenantId, id]);
    return rows[0] ? toDomain(rows[0]) : null;
  }

  /** Case-insensitive, as login IDs are unique regardless of case (the unique index answers it). */
  async findByLoginId(tenantId: string, loginId: string, tx?: Tx): Promise<User | null> {
    const rows = await runSql<UserRow>(this.dataSource, tx, `SELECT ${COLUMNS} FROM users WHERE tenant_id = $1 AND sort_login = lower($2) AND ${LIVE}`, [
      tenantId,
      loginId,
    ]);
    return rows[0] ? toDomain(rows[0]) : null;
  }

  /** Live users of a tenant by login ID, whatever its case (bulk imports), keyed by the lower-case login ID. */
  async findByLoginIds(tenantId: string, loginIds: readonly string[], tx?: Tx): Promise<Map<string, User>> {
    const found = new Map<string, User>();
    for (let i = 0; i < loginIds.length; i += 5000) {
      const chunk = loginIds.slice(i, i + 5000).map((l) => l.toLowerCase());
      const rows = await runSql<UserRow>(this.dataSource, tx, `SELECT ${COLUMNS} FROM users WHERE tenant_id = $1 AND sort_login = ANY($2::text[]) AND ${LIVE}`, [tenantId, chunk]);
      for (const r of rows) found.set(r.login_id.toLowerCase(), toDomain(r));
    }
    return found;
  }

  /** Active and disabled users by login ID, a page at a time (CSV exports): after `afterLogin` (lower case), at most `limit`. */
  async exportPage(tenantId: string, afterLogin: string, limit: number): Promise<User[]> {
    const rows = await runSql<UserRow>(
      this.dataSource,
      undefined,
      `SELECT ${COLUMNS} FROM users WHERE tenant_id = $1 AND status IN ('active', 'disabled') AND sort_login > $2 ORDER BY sort_login LIMIT $3`,
      [tenantId, afterLogin, limit],
    );
    return rows.map(toDomain);
  }

  /** Every registered user counts against the tenant's limit, disabled and pending deletion too; purged ones do not. */
  async countInTenant(tx: Tx | undefined, tenantId: string): Promise<number> {
    const rows = await runSql<{ n: number }>(this.dataSource, tx, `SELECT count(*)::int AS n FROM users WHERE tenant_id = $1 AND ${LIVE}`, [tenantId]);
    return rows[0]?.n ?? 0;
  }

  /**
   * One page of a tenant's users in the requested order, after the keyset.
   *
   * Without filters it walks the sort's index from the keyset and stops after
   * the page. With filters the best plan depends on how the matches lie along
   * the sort, which the planner cannot know (a kana prefix sorted by kana puts
   * every match in one stretch, possibly far down): so it first walks the sort
   * index for at most FILTER_WINDOW rows, testing the filters on the way, which
   * is enough whenever matches are common; when that window does not fill the
   * page, every match is gathered from an index that holds the filter (the
   * search's terms table, or the status and domain indexes and the group
   * tables), and only their keys are sorted.
   * Either way the cost is bounded by the window or by the number of matches,
   * never by the size of the tenant.
   */
  async list(query: UserListQuery): Promise<UserListPage> {
    if (query.filter.groupId && !(await this.hasGroupTables())) return { items: [], next: null };
    const probe = new ListSql(query);
    const filters = probe.filters('u');
    if (!filters) return this.walk(query);
    const q = query.filter.q;
    const search = q ? await this.searchPlan(query.tenantId, q) : null;
    if (search && (search.words === 0 || search.entries === 0)) return { items: [], next: null };
    // A rare word is found faster through its terms than by any walk.
    if (q && search?.rarest != null && search.entries != null && search.entries < RARE_WORD) {
      return search.words === 1 ? this.searchTerms(query, q, null, search.exact) : this.searchTerms(query, q, search.rarest, false);
    }
    // So is a rare status through its own index.
    const rare = query.filter.status === 'disabled' || query.filter.status === 'pending_deletion';
    if (!rare) {
      const page = await this.walkWindow(query);
      if (page) return page;
    }
    if (q && search?.words === 1) return this.searchTerms(query, q, null, search.exact);
    return this.gather(query);
  }

  private page(rows: readonly ListedRow[], limit: number): UserListPage {
    const items = rows.slice(0, limit);
    const last = rows.length > limit ? items[items.length - 1] : undefined;
    return { items: items.map(toDomain), next: last ? { key: last.cursor_key, id: last.id } : null };
  }

  private async walk(query: UserListQuery): Promise<UserListPage> {
    const s = new ListSql(query);
    const after = s.after('u', query.after);
    const rows = await runSql<ListedRow>(
      this.dataSource,
      undefined,
      `SELECT ${COLUMNS_OF('u')}, ${s.keyOf('u')} AS cursor_key FROM users u
       WHERE u.tenant_id = $1 AND u.${LIVE}${after}
       ORDER BY ${s.orderBy('u')} LIMIT ${s.param(query.limit + 1)}`,
      s.params,
    );
    return this.page(rows, query.limit);
  }

  /**
   * The first attempt: the sort index, for at most FILTER_WINDOW rows. The
   * sort indexes carry the filtered columns (status, domain, search vector),
   * so the walk reads no table rows: only the page's rows are fetched, at the
   * end. Null when the window did not settle the page.
   */
  private async walkWindow(query: UserListQuery): Promise<UserListPage | null> {
    const s = new ListSql(query);
    const after = s.after('u', query.after);
    const filters = s.filters('u') ?? 'true';
    const rows = await runSql<ListedRow & { hit: boolean; rn: string }>(
      this.dataSource,
      undefined,
      `SELECT ${COLUMNS_OF('u')}, w.cursor_key, w.hit, w.rn FROM (
         SELECT x.* FROM (
           SELECT u.id, ${s.keyOf('u')} AS cursor_key, ${s.sortColumn('u')} AS sort_value, (${filters}) AS hit,
                  row_number() OVER (ORDER BY ${s.orderBy('u')}) AS rn
           FROM users u
           WHERE u.tenant_id = $1 AND u.${LIVE}${after}
           ORDER BY ${s.orderBy('u')} LIMIT ${FILTER_WINDOW}
         ) x
         WHERE x.hit OR x.rn = ${FILTER_WINDOW}
         ORDER BY ${s.orderBy('x', 'x.sort_value')} LIMIT ${s.param(query.limit + 2)}
       ) w JOIN users u ON u.id = w.id
       ORDER BY ${s.orderBy('w', 'w.sort_value')}`,
      s.params,
    );
    const hits = rows.filter((r) => r.hit);
    const windowFull = rows.some((r) => Number(r.rn) === FILTER_WINDOW);
    // Enough matches for the page, or the walk reached the end of the list: the answer is exact.
    if (hits.length > query.limit || !windowFull) return this.page(hits, query.limit);
    return null;
  }

  /**
   * The second attempt: every match through the filters' indexes, then the top
   * of them by sort key. Index scans (which would walk the sort index again)
   * and sequential scans are switched off for this one statement's transaction.
   * A search comes here only when it has several words, each common (see
   * `searchPlan`).
   */
  private async gather(query: UserListQuery): Promise<UserListPage> {
    return this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const tx = txOf(manager);
      await runSql(
        this.dataSource,
        tx,
        `SELECT set_config('enable_indexscan', 'off', true), set_config('enable_indexonlyscan', 'off', true), set_config('enable_seqscan', 'off', true)`,
      );
      const s = new ListSql(query);
      const after = s.after('u', query.after);
      const filters = s.filters('u') ?? 'true';
      const rows = await runSql<ListedRow>(
        this.dataSource,
        tx,
        `/* gather */ SELECT ${COLUMNS_OF('u')}, m.cursor_key FROM (
           SELECT u.id, ${s.sortColumn('u')} AS sort_value, ${s.keyOf('u')} AS cursor_key FROM users u
           WHERE u.tenant_id = $1 AND u.${LIVE}${after} AND ${filters}
           ORDER BY ${s.orderBy('u')} LIMIT ${s.param(query.limit + 1)}
         ) m JOIN users u ON u.id = m.id
         ORDER BY ${s.orderBy('m', 'm.sort_value')}`,
        s.params,
      );
      return this.page(rows, query.limit);
    });
  }

  /**
   * How to find a search's matches. Each word of the query is one range of the
   * primary key of `user_search_terms` (the terms it prefixes), which carries
   * copies of status, domain and sort keys, so it is read index-only. Each
   * word's range is counted up to RARE_WORD entries, and `list` goes:
   *
   * - a word has no entry: nobody matches;
   * - a word is rarer than RARE_WORD: straight to its range (`searchTerms`),
   *   whose candidates are checked against their search vectors if the query
   *   has other words (`taro.yamada12@` reads the hundred-odd `yamada12…`, not
   *   the thousands of `taro`);
   * - otherwise the window walk first, as for any filter, and when it does not
   *   settle the page: one common word is read whole from its range and only
   *   the keys are sorted (5,000 `yamada` in ~3 ms, against ~17 ms for as many
   *   scattered table rows through the GIN index); several common words go to
   *   the GIN index (`gather`), which intersects them before reading any table
   *   row, where grouping their ranges by user would read them all (11,700
   *   entries for `taro yamada`).
   */
  private async searchPlan(tenantId: string, q: string): Promise<{ words: number; exact: boolean; rarest: number | null; entries: number | null }> {
    const [plan] = await runSql<{ words: number; exact: boolean; rarest: number | null; entries: number | null }>(
      this.dataSource,
      undefined,
      `/* search plan */ SELECT cardinality(p) AS words,
         cardinality(p) <= ${MASK_WORDS} AND NOT EXISTS (SELECT FROM unnest(p) AS x WHERE length(x) > ${TERM_CHARS}) AS exact, r.n::int AS rarest, r.entries::int AS entries
       FROM user_search_prefixes($2) AS p
       LEFT JOIN LATERAL (
         SELECT w.n, (SELECT count(*) FROM (SELECT FROM user_search_terms t WHERE ${termRange('w.prefix')} LIMIT ${RARE_WORD}) AS c) AS entries
         FROM unnest(p) WITH ORDINALITY AS w(prefix, n) WHERE w.n <= ${MASK_WORDS}
         ORDER BY 2, 1 LIMIT 1
       ) r ON true`,
      [tenantId, q],
    );
    return plan ?? { words: 0, exact: true, rarest: null, entries: null };
  }

  /**
   * The matches from `user_search_terms`: the range of the `driver` word
   * alone, or of every word grouped by user (a user is kept when every word
   * matched, one bit per word). Unless `complete` (every word read, none longer
   * than the stored terms), candidates are also checked against their search
   * vectors, one row each through a scalar sub-select (which the planner cannot
   * turn into a scan of every user as it would an EXISTS).
   */
  private async searchTerms(query: UserListQuery, q: string, driver: number | null, complete: boolean): Promise<UserListPage> {
    const s = new ListSql(query);
    const text = s.param(q);
    const only = s.param(driver);
    const filters = s.filters('h', { search: false });
    const after = s.after('h', query.after);
    const key = s.sortColumn('h');
    const check = complete ? '' : ` AND (SELECT r.search_vector FROM users r WHERE r.id = h.id) @@ (SELECT user_search_query(${text}))`;
    const rows = await runSql<ListedRow>(
      this.dataSource,
      undefined,
      `/* search terms */ SELECT ${COLUMNS_OF('u')}, m.cursor_key FROM (
         SELECT h.id, ${key} AS sort_value, ${s.keyOf('h')} AS cursor_key
         FROM unnest(user_search_prefixes(${text})) WITH ORDINALITY AS w(prefix, n)
         CROSS JOIN LATERAL (
           SELECT t.user_id AS id, t.status, t.login_domain, t.sort_login, t.sort_display_name, t.sort_kana, t.created_at, t.updated_at
           FROM user_search_terms t WHERE ${termRange('w.prefix')}
         ) h
         WHERE w.n <= ${MASK_WORDS} AND (${only}::int IS NULL OR w.n = ${only}::int) AND ${filters ?? 'true'}${after}
         GROUP BY ${key}, h.id
         HAVING bit_or(1::bigint << (w.n - 1)::int) = (SELECT bit_or(1::bigint << (n - 1)::int) FROM generate_series(1, least(cardinality(user_search_prefixes(${text})), ${MASK_WORDS})) AS n
                                                        WHERE ${only}::int IS NULL OR n = ${only}::int)${check}
         ORDER BY ${s.orderBy('h')} LIMIT ${s.param(query.limit + 1)}
       ) m JOIN users u ON u.id = m.id AND u.tenant_id = $1 AND u.${LIVE}
       ORDER BY ${s.orderBy('m', 'm.sort_value')}`,
      s.params,
    );
    return this.page(rows, query.limit);
  }

  private async hasGroupTables(tx?: Tx): Promise<boolean> {
    if (this.groupTables) return true;
    const rows = await runSql<{ ok: boolean }>(
      this.dataSource,
      tx,
      `SELECT to_regclass('group_members') IS NOT NULL AND to_regclass('group_closure') IS NOT NULL AS ok`,
    );
    // Only a positive answer is kept: the tables may arrive with a migration while we run.
    this.groupTables = rows[0]?.ok === true ? true : undefined;
    return rows[0]?.ok === true;
  }

  /**
   * Keeps the last sign-in or password change time, whichever is later than the
   * stored one: applying the same event twice, or events out of order, ends the
   * same (the consumer is idempotent without remembering event ids). These are
   * facts about the user, not administrative changes: no version, no event.
   */
  async recordTimes(column: 'last_sign_in_at' | 'password_changed_at', facts: ReadonlyArray<{ tenantId: string; userId: string; at: Date }>): Promise<number> {
    if (facts.length === 0) return 0;
    const rows = await runSql<{ id: string }>(
      this.dataSource,
      undefined,
      `UPDATE users u SET ${column} = f.at
       FROM (SELECT tenant_id, user_id, max(at) AS at FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS e(tenant_id, user_id, at) GROUP BY 1, 2) f
       WHERE u.id = f.user_id AND u.tenant_id = f.tenant_id AND u.${LIVE} AND (u.${column} IS NULL OR u.${column} < f.at)
       RETURNING u.id`,
      [facts.map((f) => f.tenantId), facts.map((f) => f.userId), facts.map((f) => f.at)],
    );
    return rows.length;
  }

  /**
   * Locks up to `limit` users whose deletion retention has passed, skipping any
   * another replica is purging, so several replicas share the work.
   */
  async claimPurgeDue(tx: Tx, now: Date, limit: number): Promise<PurgeCandidate[]> {
    const rows = await runSql<UserRow & { retention_days: number }>(
      this.dataSource,
      tx,
      `SELECT ${COLUMNS_OF('u')}, t.deletion_retention_days AS retention_days
       FROM users u JOIN tenants t ON t.id = u.tenant_id
       WHERE u.status = 'pending_deletion' AND u.deleted_at <= $1::timestamptz - make_interval(days => t.deletion_retention_days)
       ORDER BY u.deleted_at
       LIMIT $2
       FOR UPDATE OF u SKIP LOCKED`,
      [now, limit],
    );
    return rows.map((r) => ({ user: toDomain(r), retentionDays: r.retention_days }));
  }

  /** Leaves only the id, the tenant and the dates: the login ID, external ID and application-linking ID are free again. */
  async purge(tx: Tx, user: User, at: Date): Promise<boolean> {
    const rows = await runSql<{ id: string }>(
      this.dataSource,
      tx,
      `UPDATE users SET status = 'purged', purged_at = $3, updated_at = $3, version = version + 1,
         login_id = NULL, display_name = NULL, family_name = NULL, given_name = NULL, family_name_kana = NULL, given_name_kana = NULL,
         email = NULL, department = NULL, title = NULL, extra_emails = '{}', phones = '[]', ims = '[]', entitlements = '{}',
         personal_email = NULL, personal_mobile = NULL, external_id = NULL, app_linking_id = NULL, roles = '{}', restore_status = NULL,
         last_sign_in_at = NULL, password_changed_at = NULL
       WHERE id = $1 AND tenant_id = $2 AND status = 'pending_deletion' RETURNING id`,
      [user.id, user.tenantId, at],
    );
    if (rows.length === 0) return false;
    if (await this.hasGroupTables(tx)) {
      await runSql(this.dataSource, tx, `DELETE FROM group_members WHERE member_kind = 'user' AND member_id = $1 AND tenant_id = $2`, [user.id, user.tenantId]);
    }
    return true;
  }
}
