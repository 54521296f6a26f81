import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module.js';
import { UserRepository } from './user.repository.js';
import { UsersHandler } from './users.handler.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [TenantsModule],
  controllers: [UsersHandler],
  providers: [UsersService, UserRepository],
})
export class UsersModule {}
