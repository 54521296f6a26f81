import { Module } from '@nestjs/common';

/** Factors and enrolment, login policies, challenges, SNS push and Twilio SMS. Its features arrive with their own issues; the service already runs, migrates, reports health and drains. */
@Module({})
export class AppModule {}
