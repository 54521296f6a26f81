import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';
import type { ESLint as ESLintTypes } from 'eslint';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
// @ts-expect-error the config is plain JavaScript
import { boundaries } from '../../eslint.config.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Only the boundary rule, without type information, so synthetic files can be linted in memory. */
const eslint = new ESLint({
  cwd: root,
  overrideConfigFile: true,
  overrideConfig: [
    {
      files: ['**/*.ts'],
      languageOptions: { parser: tseslint.parser },
      // Only the rules of the Nx plugin are used; its bundled legacy configs do not type as flat ones.
      plugins: { '@nx': { rules: (nx as unknown as ESLintTypes.Plugin).rules ?? {} } },
      rules: { '@nx/enforce-module-boundaries': ['error', boundaries] },
    },
  ],
});

async function violations(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, filePath) });
  return (result?.messages ?? []).filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

beforeAll(() => {
  // The rule reads Nx's cached project graph (npm test computes it before linting too).
  execFileSync(process.execPath, [join(root, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), 'show', 'projects'], { cwd: root, env: { ...process.env, NX_DAEMON: 'false' }, stdio: 'ignore' });
}, 60_000);

describe('module boundaries', () => {
  it('forbids an app importing another app', async () => {
    expect(await violations('apps/audit/src/events/x.ts', "import { directoryService } from '../../../directory/src/service.js';\nexport const x = directoryService;")).toHaveLength(1);
  });

  it('forbids the platform importing an app', async () => {
    expect(await violations('libs/platform/health/src/x.ts', "import { auditService } from '../../../../apps/audit/src/service.js';\nexport const x = auditService;")).toHaveLength(1);
  });

  it('forbids the contracts depending on the platform', async () => {
    const found = await violations('libs/contracts/src/x.ts', "import { validate } from '@musubi/platform/validation';\nexport const x = validate;");
    expect(found.join('\n')).toContain('type:contracts');
  });

  it('lets an app use the contracts and the platform', async () => {
    expect(await violations('apps/audit/src/events/x.ts', "import { SUBJECTS } from '@musubi/contracts';\nimport { runSql } from '@musubi/platform/db';\nexport const x = [SUBJECTS, runSql];")).toEqual([]);
  });
});
