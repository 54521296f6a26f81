import type { PipeTransform } from '@nestjs/common';
import type { Static, TSchema } from '@sinclair/typebox';
import { validationError } from '@musubi/platform/errors';
import { validate } from '@musubi/platform/validation';

/** Validates a body (or query) against a contract schema; unknown fields and wrong types are 400 with each field named. */
export class SchemaPipe<S extends TSchema> implements PipeTransform<unknown, Static<S>> {
  constructor(
    readonly schema: S,
    private readonly what: 'body' | 'query' = 'body',
  ) {}

  transform(value: unknown): Static<S> {
    if (this.what === 'body' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw validationError([{ pointer: '', detail: 'must be a JSON object' }], 'The request body must be a JSON object.');
    }
    const checked = validate(this.schema, value);
    if (!checked.ok) throw validationError(checked.details, `The request ${this.what} is invalid.`);
    return checked.value;
  }
}
