import { ConfigError, type ConfigSpec } from '@musubi/platform/config';
import { createLogger } from '@musubi/platform/logging';
import { migrateService, startService, type ServiceDefinition } from './start-service.js';

/** EX_CONFIG from sysexits.h: the process refuses to start on a bad setting. */
export const EXIT_CONFIG = 78;

/**
 * A service's `main.ts` calls this and nothing else. `node main.js` starts the
 * service; `node main.js migrate` provisions and migrates its schema, then exits.
 * SIGTERM or SIGINT stop it gracefully; a stop that takes longer than
 * SHUTDOWN_TIMEOUT_MS ends the process anyway.
 */
export async function runMain<S extends ConfigSpec>(def: ServiceDefinition<S>): Promise<void> {
  const logger = createLogger({ service: def.name, level: 'info' });
  try {
    if (process.argv[2] === 'migrate') {
      const ran = await migrateService(def);
      logger.info({ migrations: ran }, ran.length ? `${def.name}: ran ${ran.length} migration(s)` : `${def.name}: schema up to date`);
      logger.flush();
      process.exit(0);
    }
    const svc = await startService(def);
    const timeoutMs = svc.shutdownTimeoutMs;
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutdown requested');
      setTimeout(() => {
        logger.error('graceful shutdown timed out; exiting');
        logger.flush();
        process.exit(1);
      }, timeoutMs + 5000).unref();
      void svc.stop().then(
        () => {
          logger.flush();
          process.exit(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'error during shutdown');
          logger.flush();
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.fatal({ issues: err.issues }, `${def.name} refuses to start: ${err.message}`);
      logger.flush();
      process.stderr.write(`${def.name}: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    logger.fatal({ err }, `${def.name} failed to start`);
    logger.flush();
    process.exit(1);
  }
}
