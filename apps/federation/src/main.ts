import 'reflect-metadata';
import { runMain } from '@musubi/platform/runtime';
import { federationService } from './service.js';

void runMain(federationService);
