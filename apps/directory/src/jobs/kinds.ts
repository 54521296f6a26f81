import { Injectable } from '@nestjs/common';
import type { CallContext, JobCounts, JobKind } from '@musubi/contracts';
import type { Tx } from '@musubi/platform/db';
import type { Tenant } from '../tenants/tenant.js';
import type { ColumnSpec } from './csv/reader.js';

export interface RowIssue {
  readonly column: string | null;
  readonly message: string;
}

/**
 * One import in progress. `check` sees every row first (nothing is written);
 * only when no row has an issue does `apply` run, once, inside one transaction.
 */
export interface ImportSession<Op> {
  check(values: Readonly<Record<string, string>>, row: number): Promise<{ readonly op: Op } | { readonly issues: readonly RowIssue[] }>;
  /** Issues only visible across rows (the same login ID twice, a limit), after every row was checked. */
  finish(): Promise<ReadonlyArray<RowIssue & { readonly row: number }>>;
  apply(tx: Tx, ops: readonly Op[], progress: (done: number) => Promise<void>): Promise<Omit<JobCounts, 'rows' | 'exported'>>;
}

/** Reads CSV rows of one kind into directory changes. */
export interface CsvImporter<Op = unknown> {
  readonly kind: JobKind;
  readonly columns: readonly ColumnSpec[];
  begin(tenant: Tenant, ctx: CallContext): Promise<ImportSession<Op>>;
}

/** Writes one kind of directory data as CSV rows. */
export interface CsvExporter {
  readonly kind: JobKind;
  readonly columns: readonly string[];
  rows(tenant: Tenant): AsyncIterable<readonly string[]>;
}

/**
 * The importers and exporters the directory's features register (users,
 * groups, group members); jobs of a kind nobody registered are refused.
 */
@Injectable()
export class JobKinds {
  private readonly importers = new Map<JobKind, CsvImporter>();
  private readonly exporters = new Map<JobKind, CsvExporter>();

  registerImporter<Op>(importer: CsvImporter<Op>): void {
    this.importers.set(importer.kind, importer);
  }

  registerExporter(exporter: CsvExporter): void {
    this.exporters.set(exporter.kind, exporter);
  }

  importer(kind: JobKind): CsvImporter | undefined {
    return this.importers.get(kind);
  }

  exporter(kind: JobKind): CsvExporter | undefined {
    return this.exporters.get(kind);
  }
}
