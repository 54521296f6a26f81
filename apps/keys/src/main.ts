import 'reflect-metadata';
import { runMain } from '@musubi/platform/runtime';
import { keysService } from './service.js';

void runMain(keysService);
