import { Module } from '@nestjs/common';
import { AuditEventsModule } from '../events/audit-events.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { TrailModule } from '../trail/trail.module.js';
import { LoginHistoryHandler } from './login-history.handler.js';
import { LoginHistoryService } from './login-history.service.js';

/** A user's recent sign-ins, for the self-service page. */
@Module({ imports: [AuditEventsModule, SettingsModule, TrailModule], controllers: [LoginHistoryHandler], providers: [LoginHistoryService] })
export class LoginsModule {}
