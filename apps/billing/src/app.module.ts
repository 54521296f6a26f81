import { Module } from '@nestjs/common';

/** Contracts, options, ID metering, invoices, termination and the deletion schedule. Its features arrive with their own issues; the service already runs, migrates, reports health and drains. */
@Module({})
export class AppModule {}
