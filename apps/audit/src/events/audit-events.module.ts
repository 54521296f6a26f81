import { Module } from '@nestjs/common';
import { SettingsModule } from '../settings/settings.module.js';
import { TrailModule } from '../trail/trail.module.js';
import { AuditEventRepository } from './audit-event.repository.js';
import { AuditEventsHandler } from './audit-events.handler.js';
import { AuditEventsService } from './audit-events.service.js';

/** Searching the trail. */
@Module({
  imports: [TrailModule, SettingsModule],
  controllers: [AuditEventsHandler],
  providers: [AuditEventsService, AuditEventRepository],
  exports: [AuditEventRepository],
})
export class AuditEventsModule {}
