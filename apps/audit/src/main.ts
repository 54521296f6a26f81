import 'reflect-metadata';
import { runMain } from '@musubi/platform/runtime';
import { auditService } from './service.js';

void runMain(auditService);
