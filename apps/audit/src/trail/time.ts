/** Times are stored in UTC and shown in the tenant's time zone (the directory's, default Asia/Tokyo). */
export const DEFAULT_TIME_ZONE = 'Asia/Tokyo';

const formats = new Map<string, Intl.DateTimeFormat>();

function formatOf(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      fractionalSecondDigits: 3,
      timeZoneName: 'longOffset',
    });
    formats.set(timeZone, f);
  }
  return f;
}

export function isTimeZone(tz: string): boolean {
  try {
    formatOf(tz);
    return true;
  } catch {
    return false;
  }
}

/** `2026-03-15T09:04:05.123Z` in Asia/Tokyo → `2026-03-15T18:04:05.123+09:00`. An unknown zone falls back to Asia/Tokyo. */
export function formatLocal(iso: string | Date, timeZone: string): string {
  const date = typeof iso === 'string' ? new Date(iso) : iso;
  const f = isTimeZone(timeZone) ? formatOf(timeZone) : formatOf(DEFAULT_TIME_ZONE);
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(date)) parts[p.type] = p.value;
  const offset = (parts['timeZoneName'] ?? 'GMT').replace('GMT', '') || '+00:00';
  return `${parts['year']}-${parts['month']}-${parts['day']}T${parts['hour']}:${parts['minute']}:${parts['second']}.${parts['fractionalSecond']}${offset}`;
}

/** The UTC calendar day of an instant, as YYYY-MM-DD. */
export const utcDay = (d: Date): string => d.toISOString().slice(0, 10);

/** YYYY-MM-DD plus some days. */
export function addDays(day: string, days: number): string {
  const t = Date.parse(`${day}T00:00:00.000Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/**
 * A timestamp Postgres gave as text with microseconds (`…12.345000Z`) in the
 * millisecond form audit writes. Sub-millisecond digits never come from audit:
 * they are kept, so the record no longer matches its hash.
 */
export function isoFromPg(text: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.(\d{3})(\d{3})Z$/.exec(text);
  if (!m) return text;
  return m[3] === '000' ? `${m[1]}.${m[2]}Z` : text;
}
