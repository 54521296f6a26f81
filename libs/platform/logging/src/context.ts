import { AsyncLocalStorage } from 'node:async_hooks';
import type { CallContext } from '@musubi/contracts';

const storage = new AsyncLocalStorage<CallContext>();

/** Runs `fn` with `ctx` as the current call context: log lines and outgoing requests pick it up. */
export function runWithContext<T>(ctx: CallContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

export function currentContext(): CallContext | undefined {
  return storage.getStore();
}
