import { Module } from '@nestjs/common';
import { AuditEventsModule } from './events/audit-events.module.js';
import { ExportModule } from './export/export.module.js';
import { IngestModule } from './ingest/ingest.module.js';
import { LoginsModule } from './logins/logins.module.js';
import { MaintenanceModule } from './maintenance/maintenance.module.js';
import { SettingsModule } from './settings/settings.module.js';
import { TrailModule } from './trail/trail.module.js';
import { VerificationModule } from './verification/verification.module.js';

@Module({ imports: [TrailModule, SettingsModule, AuditEventsModule, VerificationModule, ExportModule, LoginsModule, IngestModule, MaintenanceModule] })
export class AppModule {}
