import { Module } from '@nestjs/common';
import { TrailModule } from '../trail/trail.module.js';
import { IngestService } from './ingest.service.js';

/** The durable consumers: every producer's stream into the trail. */
@Module({ imports: [TrailModule], providers: [IngestService] })
export class IngestModule {}
