import { Module } from '@nestjs/common';
import { TrailModule } from '../trail/trail.module.js';
import { SettingsHandler } from './settings.handler.js';
import { SettingsRepository } from './settings.repository.js';
import { SettingsService } from './settings.service.js';

/** A tenant's retention and time zone. */
@Module({ imports: [TrailModule], controllers: [SettingsHandler], providers: [SettingsService, SettingsRepository], exports: [SettingsService] })
export class SettingsModule {}
