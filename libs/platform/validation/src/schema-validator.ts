import type { ErrorDetail } from '@musubi/contracts';
import type { TSchema, Static } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with `exports.default`; under ESM interop the default import is the module object.
type AddFormats = (ajv: Ajv, formats: string[]) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

const ajv = new Ajv({
  allErrors: true,
  strict: false,
  coerceTypes: false,
  useDefaults: false,
  removeAdditional: false,
});
addFormats(ajv, ['uuid', 'date-time', 'email', 'uri', 'hostname', 'ipv4', 'ipv6']);

const compiled = new WeakMap<TSchema, ValidateFunction>();

function compile(schema: TSchema): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  return fn;
}

const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

function detail(e: ErrorObject): ErrorDetail {
  const at = e.instancePath; // '' is the whole document (RFC 6901)
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return { pointer: `${at}/${escapePointer(String(params['additionalProperty']))}`, detail: 'is not a known field' };
    case 'required':
      return { pointer: `${at}/${escapePointer(String(params['missingProperty']))}`, detail: 'is required' };
    case 'type':
      return { pointer: at, detail: `must be ${String(params['type'])}` };
    case 'format':
      return { pointer: at, detail: `must be a valid ${String(params['format'])}` };
    case 'pattern':
      return { pointer: at, detail: 'has characters or a form that is not allowed' };
    default:
      return { pointer: at, detail: e.message ?? 'is invalid' };
  }
}

/** Union schemas make ajv report one error per branch; keep the most useful, distinct ones. */
function summarize(errors: readonly ErrorObject[]): ErrorDetail[] {
  const seen = new Set<string>();
  const out: ErrorDetail[] = [];
  for (const e of errors) {
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf') continue;
    const d = detail(e);
    const key = `${d.pointer} ${d.detail}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(d);
    }
    if (out.length >= 20) break;
  }
  if (out.length === 0 && errors[0]) out.push(detail(errors[0]));
  return out;
}

export type ValidationResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly details: ErrorDetail[] };

/** Validates `value` against a TypeBox/JSON schema; the compiled validator is cached per schema object. */
export function validate<S extends TSchema>(schema: S, value: unknown): ValidationResult<Static<S>> {
  const fn = compile(schema);
  if (fn(value)) return { ok: true, value: value as Static<S> };
  return { ok: false, details: summarize(fn.errors ?? []) };
}
