/** A `scope` parameter's tokens, deduplicated, in order; null when it is malformed. */
export function parseScope(raw: string | undefined): string[] | null {
  if (raw === undefined) return [];
  if (raw.length > 2000) return null;
  const parts = raw.split(' ').filter((s) => s.length > 0);
  if (parts.some((s) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) return null;
  return [...new Set(parts)];
}

export const scopeString = (scopes: readonly string[]): string => scopes.join(' ');
