import { Module } from '@nestjs/common';
import { AuditEventRepository } from './audit-event.repository.js';
import { AuditEventsHandler } from './audit-events.handler.js';
import { AuditEventsService } from './audit-events.service.js';

@Module({ controllers: [AuditEventsHandler], providers: [AuditEventsService, AuditEventRepository] })
export class AuditEventsModule {}
