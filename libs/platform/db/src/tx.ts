import type { DataSource, EntityManager } from 'typeorm';

declare const txBrand: unique symbol;

/**
 * An open database transaction, opaque to domain code: services pass it from
 * the unit of work to repositories (and the outbox) without seeing the ORM.
 */
export interface Tx {
  readonly [txBrand]: true;
}

interface TxImpl {
  readonly manager: EntityManager;
}

/** For repositories only: the ORM handle behind a transaction. */
export const managerOf = (tx: Tx): EntityManager => (tx as unknown as TxImpl).manager;

export const txOf = (manager: EntityManager): Tx => ({ manager }) as TxImpl as unknown as Tx;

/** Runs domain work in one transaction: everything in `fn` commits together or not at all. */
export class UnitOfWork {
  constructor(private readonly dataSource: DataSource) {}

  run<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((manager) => fn(txOf(manager)));
  }
}
