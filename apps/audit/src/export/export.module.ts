import { Module } from '@nestjs/common';
import { AuditEventsModule } from '../events/audit-events.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { TrailModule } from '../trail/trail.module.js';
import { VerificationModule } from '../verification/verification.module.js';
import { ExportHandler } from './export.handler.js';
import { ExportService } from './export.service.js';

/** Exports (CSV, JSON Lines), page by page. */
@Module({ imports: [AuditEventsModule, SettingsModule, TrailModule, VerificationModule], controllers: [ExportHandler], providers: [ExportService] })
export class ExportModule {}
