import { Module } from '@nestjs/common';
import { CheckpointRepository } from '../checkpoints/checkpoint.repository.js';
import { CheckpointService } from '../checkpoints/checkpoint.service.js';
import { CheckpointSigner } from '../checkpoints/signer.js';
import { TrailModule } from '../trail/trail.module.js';
import { ChainApiService } from './chain-api.service.js';
import { ChainHandler } from './chain.handler.js';
import { ChainReader } from './chain.reader.js';
import { VerifyService } from './verify.service.js';

/** Reading the chains back: verification, signed checkpoints, signing keys. */
@Module({
  imports: [TrailModule],
  controllers: [ChainHandler],
  providers: [ChainReader, VerifyService, CheckpointRepository, CheckpointSigner, CheckpointService, ChainApiService],
  exports: [ChainReader, VerifyService, CheckpointRepository, CheckpointSigner, CheckpointService],
})
export class VerificationModule {}
