import type { Caller, JobCounts, JobKind } from '@musubi/contracts';

export type JobStatus = 'queued' | 'validating' | 'applying' | 'exporting' | 'succeeded' | 'failed';

export interface Job {
  readonly id: string;
  readonly tenantId: string;
  readonly kind: JobKind;
  readonly status: JobStatus;
  /** Requested (auto, utf-8, shift_jis) before the run; the one actually used after. */
  readonly encoding: string | null;
  readonly fileObject: string | null;
  readonly fileName: string | null;
  readonly fileBytes: number | null;
  readonly resultObject: string | null;
  readonly done: number;
  readonly total: number | null;
  readonly counts: JobCounts;
  readonly errorCount: number;
  readonly failure: string | null;
  readonly attempts: number;
  readonly createdBy: Caller;
  readonly requestId: string | null;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
}

export const NO_COUNTS: JobCounts = { rows: 0, created: 0, updated: 0, deleted: 0, unchanged: 0, exported: 0 };

export const isImport = (kind: JobKind): boolean => kind.startsWith('import_');
