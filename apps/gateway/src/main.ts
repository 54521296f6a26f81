import 'reflect-metadata';
import { runMain } from '@musubi/platform/runtime';
import { gatewayService } from './service.js';

void runMain(gatewayService);
