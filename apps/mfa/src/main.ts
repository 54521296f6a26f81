import 'reflect-metadata';
import { runMain } from '@musubi/platform/runtime';
import { mfaService } from './service.js';

void runMain(mfaService);
