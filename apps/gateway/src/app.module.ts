import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { ApiAppsController } from './api/api-apps.controller.js';
import { AuditEventsController } from './api/audit-events.controller.js';
import { MeController } from './api/me.controller.js';
import { DomainsController } from './api/domains.controller.js';
import { GroupsController } from './api/groups.controller.js';
import { JobFileStores, JobsController } from './api/jobs.controller.js';
import { UserGroupsController } from './api/user-groups.controller.js';
import { TenantsController } from './api/tenants.controller.js';
import { UsersController } from './api/users.controller.js';
import { AdminAccess } from './auth/admin-access.js';
import { ApiAuthGuard } from './auth/api-auth.guard.js';
import { AuthnAdminController } from './auth/authn-admin.controller.js';
import { SessionAuthenticator } from './auth/session-authenticator.js';
import { TenantExistence } from './auth/tenant-existence.js';
import { HealthController } from './health/health.controller.js';
import { ProblemExceptionFilter } from './http/exception.filter.js';
import { OpenApiController } from './openapi/openapi.controller.js';
import { OpenApiService } from './openapi/openapi.service.js';
import { OidcGatewayModule } from './oidc/oidc.module.js';
import { AccountPagesController } from './pages/account.controller.js';
import { LoginPagesController } from './pages/login.controller.js';
import { TenantResolver } from './pages/tenant-resolver.js';
import { WebSessions } from './pages/web-session.js';

@Module({
  imports: [DiscoveryModule, OidcGatewayModule],
  controllers: [HealthController, OpenApiController, MeController, TenantsController, UsersController, GroupsController, UserGroupsController, DomainsController, JobsController, AuditEventsController, LoginPagesController, AuthnAdminController, ApiAppsController, AccountPagesController],
  providers: [TenantExistence, JobFileStores, OpenApiService, TenantResolver, SessionAuthenticator, WebSessions, AdminAccess, { provide: APP_GUARD, useClass: ApiAuthGuard }, { provide: APP_FILTER, useClass: ProblemExceptionFilter }],
})
export class AppModule {}
