// Jest reads testTimeout from the global config only; a project sets its own default here.
import { jest } from '@jest/globals';

jest.setTimeout(60_000);
