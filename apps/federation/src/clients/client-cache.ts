import { Injectable } from '@nestjs/common';
import type { OidcClient } from './client.js';
import { ChangeFeed } from '../oauth/change-feed.js';
import { ClientRepository } from './client.repository.js';

const TTL_MS = 5_000;
const MAX_ENTRIES = 20_000;

/**
 * Clients as the protocol endpoints read them, at thousands of requests a
 * second: kept for a few seconds. A change drops the entry on this replica at
 * once and on the others when its NOTIFY arrives (milliseconds after commit);
 * TTL_MS bounds staleness if that notification is ever lost.
 */
@Injectable()
export class ClientCache {
  private readonly entries = new Map<string, { client: OidcClient | null; until: number }>();

  constructor(
    private readonly clients: ClientRepository,
    feed: ChangeFeed,
  ) {
    // A change through another replica drops the entry here as soon as it commits.
    feed.onClientChanged((key) => this.entries.delete(key));
  }

  async get(tenantId: string, clientId: string): Promise<OidcClient | null> {
    const key = `${tenantId}/${clientId}`;
    const hit = this.entries.get(key);
    const now = Date.now();
    if (hit && hit.until > now) return hit.client;
    const client = await this.clients.findById(tenantId, clientId);
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, { client, until: now + TTL_MS });
    return client;
  }

  forget(tenantId: string, clientId: string): void {
    this.entries.delete(`${tenantId}/${clientId}`);
  }
}
