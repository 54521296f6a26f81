import { Module } from '@nestjs/common';

/** Customer keys: per-tenant KEKs, data-key wrap/unwrap, rotation, crypto-shredding. Its features arrive with their own issues; the service already runs, migrates, reports health and drains. */
@Module({})
export class AppModule {}
