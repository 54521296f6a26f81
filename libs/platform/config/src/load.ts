import type { Setting } from './setting.js';

export type ConfigSpec = Readonly<Record<string, Setting<unknown>>>;

export type ConfigOf<S extends ConfigSpec> = { readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

export interface ConfigIssue {
  readonly name: string;
  readonly problem: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i.name}: ${i.problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Validates every setting of `spec` against `env` and returns the typed config,
 * or throws a `ConfigError` listing each problem by setting name. A secret's
 * value never appears in a message.
 */
export function loadConfig<S extends ConfigSpec>(spec: S, env: Environment = process.env): ConfigOf<S> {
  const issues: ConfigIssue[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(spec)) {
    const given = env[name];
    const raw = given === undefined || given === '' ? setting.default : given;
    if (raw === undefined) {
      if (setting.optional) out[name] = undefined;
      else issues.push({ name, problem: `is required (${setting.doc})` });
      continue;
    }
    try {
      out[name] = setting.parse(raw);
    } catch (err) {
      const shown = setting.secret ? '' : ` (got "${raw.length > 80 ? `${raw.slice(0, 80)}…` : raw}")`;
      issues.push({ name, problem: `${(err as Error).message}${shown}` });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze(out) as ConfigOf<S>;
}

export interface SettingDoc {
  readonly name: string;
  readonly doc: string;
  readonly default: string | null;
  readonly required: boolean;
  readonly secret: boolean;
}

/** The reference table for docs. Defaults live in code, so they are never secret. */
export function describeConfig(spec: ConfigSpec): SettingDoc[] {
  return Object.entries(spec).map(([name, s]) => ({
    name,
    doc: s.doc,
    default: s.default ?? null,
    required: s.default === undefined && !s.optional,
    secret: s.secret,
  }));
}
