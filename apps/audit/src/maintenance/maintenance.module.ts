import { Module } from '@nestjs/common';
import { TrailModule } from '../trail/trail.module.js';
import { MaintenanceService } from './maintenance.service.js';

/** Partitions ahead of need, and the daily purge. */
@Module({ imports: [TrailModule], providers: [MaintenanceService] })
export class MaintenanceModule {}
