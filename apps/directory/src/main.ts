import 'reflect-metadata';
import { runMain } from '@musubi/platform/runtime';
import { directoryService } from './service.js';

void runMain(directoryService);
