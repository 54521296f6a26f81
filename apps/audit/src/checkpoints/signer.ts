import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '@musubi/platform/runtime';
import { checkpointMessage, keyIdOf, type CheckpointData } from '../chain/offline-verifier.js';
import { parseSigningKey, type AuditConfig } from '../config/env.schema.js';

/**
 * Signs checkpoints with the Ed25519 key of AUDIT_SIGNING_KEY. Without one (a
 * development fleet), a throwaway key made at start signs instead: its public
 * key is registered like any other, so verification still works, but nothing
 * can be checked against a key pinned before the restart.
 */
@Injectable()
export class CheckpointSigner {
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly keyId: string;
  /** True when no AUDIT_SIGNING_KEY was configured. */
  readonly ephemeral: boolean;

  constructor(@Inject(CONFIG) config: Pick<AuditConfig, 'AUDIT_SIGNING_KEY'>) {
    this.ephemeral = config.AUDIT_SIGNING_KEY === undefined;
    this.privateKey = config.AUDIT_SIGNING_KEY === undefined ? generateKeyPairSync('ed25519').privateKey : parseSigningKey(config.AUDIT_SIGNING_KEY);
    this.publicKey = createPublicKey(this.privateKey);
    this.keyId = keyIdOf(this.publicKey);
  }

  get publicKeyPem(): string {
    return this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** A secret for another purpose (e.g. MACs), derived from the signing key: never the key itself. */
  derivedSecret(label: string): Buffer {
    return createHash('sha256').update(`musubi-audit:${label}\0`).update(this.privateKey.export({ type: 'pkcs8', format: 'der' })).digest();
  }

  sign(cp: Omit<CheckpointData, 'signature' | 'keyId'>): CheckpointData {
    const unsigned = { ...cp, keyId: this.keyId };
    const signature = sign(null, Buffer.from(checkpointMessage(unsigned), 'utf8'), this.privateKey).toString('base64url');
    return { ...unsigned, signature };
  }
}
