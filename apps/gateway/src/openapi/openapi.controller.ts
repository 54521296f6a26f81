import { Controller, Get, Header } from '@nestjs/common';
import { OpenApiService } from './openapi.service.js';

@Controller('api/docs')
export class OpenApiController {
  constructor(private readonly openapi: OpenApiService) {}

  /** The OpenAPI 3.1 document of the admin API. */
  @Get()
  @Header('cache-control', 'no-cache')
  document(): Record<string, unknown> {
    return this.openapi.build();
  }
}
