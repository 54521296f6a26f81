import 'reflect-metadata';
import { runMain } from '@musubi/platform/runtime';
import { authnService } from './service.js';

void runMain(authnService);
