import 'reflect-metadata';
import { runMain } from '@musubi/platform/runtime';
import { billingService } from './service.js';

void runMain(billingService);
