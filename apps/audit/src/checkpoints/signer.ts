import { createHash, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '@musubi/platform/runtime';
import { checkpointMessage, keyIdOf, type CheckpointData } from '../chain/offline-verifier.js';
import { parseSigningKey, type AuditConfig } from '../config/env.schema.js';

/** The public key of deploy/k8s/secrets.example.yaml's placeholder: a deployment must bring its own. */
export const EXAMPLE_KEY_ID = 'b7d1a321b3c56336802fb3899d7d80c0';

/** Signs checkpoints with the Ed25519 key of AUDIT_SIGNING_KEY. */
@Injectable()
export class CheckpointSigner {
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly keyId: string;

  constructor(@Inject(CONFIG) config: AuditConfig) {
    this.privateKey = parseSigningKey(config.AUDIT_SIGNING_KEY);
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
