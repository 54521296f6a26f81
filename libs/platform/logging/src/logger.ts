import type { LoggerService } from '@nestjs/common';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { currentContext } from './context.js';

export type { Logger } from 'pino';

/**
 * Keys whose values never reach a log line, wherever they appear in a logged
 * object (to two levels). Log only what you must; this is the safety net.
 */
const SECRET_KEYS = [
  'password',
  'currentPassword',
  'newPassword',
  'temporaryPassword',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'secret',
  'clientSecret',
  'sessionId',
  'authorization',
  'cookie',
  'otp',
  'assertion',
  'privateKey',
];
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export interface LoggerOptions {
  readonly service: string;
  readonly level: LevelWithSilent;
  /** Defaults to stdout; tests may pass a stream to read lines. */
  readonly destination?: NodeJS.WritableStream;
}

/** JSON lines carrying the service, and the request id and tenant id of the current call. */
export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level,
      base: { service: opts.service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const ctx = currentContext();
        return ctx ? { requestId: ctx.requestId, tenantId: ctx.tenantId } : {};
      },
    },
    (opts.destination ?? pino.destination({ sync: false })) as pino.DestinationStream,
  );
}

/** Nest's own log calls, through the same JSON logger. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  private write(level: 'info' | 'warn' | 'error' | 'debug' | 'trace' | 'fatal', message: unknown, rest: unknown[]) {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    if (message instanceof Error) {
      this.logger[level]({ context, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ context, ...message });
    } else {
      this.logger[level]({ context }, String(message));
    }
  }

  log(message: unknown, ...rest: unknown[]) {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    // Nest passes (message, stack, context); keep the stack in the log, never in a reply.
    const stack = typeof rest[0] === 'string' && rest.length > 1 ? rest[0] : undefined;
    if (stack && !(message instanceof Error)) this.logger.error({ context: rest[rest.length - 1], stack }, String(message));
    else this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]) {
    this.write('fatal', message, rest);
  }
}

