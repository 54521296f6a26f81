import { Module } from '@nestjs/common';
import { AuditEventsModule } from './events/audit-events.module.js';

@Module({ imports: [AuditEventsModule] })
export class AppModule {}
