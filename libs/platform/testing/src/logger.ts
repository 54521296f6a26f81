import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@musubi/platform/logging';

export interface CapturedLogs {
  readonly logger: Logger;
  /** Every line logged so far, parsed. */
  lines(): Array<Record<string, unknown>>;
  /** The raw text, for "no secret ever appears" assertions. */
  text(): string;
}

/** A JSON logger whose output a test can read. Level from MUSUBI_TEST_LOG_LEVEL (default info). */
export function captureLogs(service = 'test'): CapturedLogs {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      if (process.env['MUSUBI_TEST_LOG_ECHO']) process.stderr.write(chunk);
      cb();
    },
  });
  const level = (process.env['MUSUBI_TEST_LOG_LEVEL'] ?? 'info') as 'info';
  const logger = createLogger({ service, level, destination: stream });
  return {
    logger,
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
