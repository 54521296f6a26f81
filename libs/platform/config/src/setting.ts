/**
 * Typed, documented settings read from the environment. A service declares its
 * settings once (`config/env.schema.ts`); `loadConfig` validates all of them at
 * boot and refuses to start on any bad or missing one, naming each.
 */
export interface Setting<T> {
  readonly doc: string;
  /** Secrets are never echoed back, in errors or in docs. */
  readonly secret: boolean;
  /** Raw default, as it would be written in the environment; absent means required. */
  readonly default?: string;
  /** Optional settings may be unset; their value is then `undefined`. */
  readonly optional: boolean;
  /** Parses a raw value; throws an `Error` whose message says what is wrong. */
  parse(raw: string): T;
}

interface Common {
  readonly doc: string;
  readonly default?: string;
  readonly secret?: boolean;
}

function make<T>(common: Common, parse: (raw: string) => T): Setting<T> {
  const base = { doc: common.doc, secret: common.secret ?? false, optional: false, parse };
  return common.default === undefined ? base : { ...base, default: common.default };
}

export function optional<T>(setting: Setting<T>): Setting<T | undefined> {
  return { ...setting, optional: true };
}

export function stringSetting(opts: Common & { minLength?: number; pattern?: RegExp; patternDoc?: string }): Setting<string> {
  return make(opts, (raw) => {
    if (raw.length < (opts.minLength ?? 1)) throw new Error(`must be at least ${opts.minLength ?? 1} characters`);
    if (opts.pattern && !opts.pattern.test(raw)) throw new Error(`must be ${opts.patternDoc ?? `of the form ${opts.pattern}`}`);
    return raw;
  });
}

export function intSetting(opts: Common & { min: number; max: number }): Setting<number> {
  return make(opts, (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error('must be an integer');
    const value = Number(raw);
    if (value < opts.min || value > opts.max) throw new Error(`must be between ${opts.min} and ${opts.max}`);
    return value;
  });
}

export function portSetting(opts: Common): Setting<number> {
  return intSetting({ ...opts, min: 1, max: 65535 });
}

export function boolSetting(opts: Common): Setting<boolean> {
  return make(opts, (raw) => {
    const v = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
    throw new Error('must be true or false');
  });
}

export function enumSetting<const V extends readonly string[]>(values: V, opts: Common): Setting<V[number]> {
  return make(opts, (raw) => {
    if (!(values as readonly string[]).includes(raw)) throw new Error(`must be one of: ${values.join(', ')}`);
    return raw;
  });
}

export function urlSetting(opts: Common & { protocols: readonly string[] }): Setting<string> {
  return make(opts, (raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new Error('is not a valid URL');
    }
    if (!opts.protocols.includes(url.protocol)) throw new Error(`must use ${opts.protocols.join(' or ')}`);
    return raw;
  });
}

/** Comma-separated URLs, e.g. a NATS cluster's seed servers. */
export function urlListSetting(opts: Common & { protocols: readonly string[] }): Setting<string[]> {
  const one = urlSetting(opts);
  return make(opts, (raw) => {
    const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
    if (items.length === 0) throw new Error('must name at least one URL');
    return items.map((item, i) => {
      try {
        return one.parse(item);
      } catch (err) {
        throw new Error(`entry ${i + 1} ${(err as Error).message}`);
      }
    });
  });
}

/** Comma-separated CIDR blocks (IPv4 or IPv6). */
export function listSetting(opts: Common & { item?: (raw: string) => void }): Setting<string[]> {
  return make(opts, (raw) => {
    const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
    items.forEach((item, i) => {
      try {
        opts.item?.(item);
      } catch (err) {
        throw new Error(`entry ${i + 1} ${(err as Error).message}`);
      }
    });
    return items;
  });
}
