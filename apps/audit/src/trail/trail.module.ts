import { Module } from '@nestjs/common';
import { AuditTrail } from './audit-trail.js';
import { OperatorReads } from './operator-reads.js';
import { TrailRepository } from './trail.repository.js';

/** The write side: appending to the tenants' hash chains. */
@Module({ providers: [AuditTrail, TrailRepository, OperatorReads], exports: [AuditTrail, TrailRepository, OperatorReads] })
export class TrailModule {}
