#!/usr/bin/env node
// Transpiles every workspace project (apps/*, libs/*) from TypeScript to ESM with swc.
// Type checking is a separate step (`npm run typecheck`); this only has to be fast,
// because `npm start` runs it before every start.
//
// Layout: <project>/**/src/<path>.ts  ->  <project>/dist/<prefix>/<path>.js
// where <prefix> is the part of the path between the project root and `src`
// (empty for apps and contracts, the concern name for libs/platform/<concern>/src).
import { transformFile } from '@swc/core';
import { copyFile, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const swcOptions = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2023',
    keepClassNames: true,
  },
  module: { type: 'es6' },
  sourceMaps: true,
};

async function* walk(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else yield full;
  }
}

async function projects() {
  const out = [];
  for (const group of ['apps', 'libs']) {
    const base = join(root, group);
    for (const name of await readdir(base).catch(() => [])) {
      const dir = join(base, name);
      if ((await stat(join(dir, 'package.json')).catch(() => null))?.isFile()) out.push(dir);
    }
  }
  return out;
}

function target(projectDir, file) {
  const rel = relative(projectDir, file).split(sep);
  const srcAt = rel.indexOf('src');
  if (srcAt < 0) return null;
  return join(projectDir, 'dist', ...rel.slice(0, srcAt), ...rel.slice(srcAt + 1));
}

const isSpec = (f) => /\.(spec|test|integration-spec|e2e-spec)\.ts$/.test(f);

export async function build({ quiet = false } = {}) {
  const started = Date.now();
  let count = 0;
  for (const dir of await projects()) {
    await rm(join(dir, 'dist'), { recursive: true, force: true });
    const jobs = [];
    for await (const file of walk(dir)) {
      const out = target(dir, file);
      if (!out || isSpec(file) || file.endsWith('.d.ts')) continue;
      if (file.endsWith('.ts')) {
        const js = out.replace(/\.ts$/, '.js');
        jobs.push(
          transformFile(file, { ...swcOptions, filename: file, sourceFileName: relative(dirname(js), file) }).then(
            async ({ code, map }) => {
              await mkdir(dirname(js), { recursive: true });
              await writeFile(js, `${code}\n//# sourceMappingURL=${js.split(sep).pop()}.map\n`);
              if (map) await writeFile(`${js}.map`, map);
              count++;
            },
          ),
        );
      } else {
        jobs.push(mkdir(dirname(out), { recursive: true }).then(() => copyFile(file, out)));
      }
    }
    await Promise.all(jobs);
  }
  if (!quiet) console.log(`build: ${count} files in ${Date.now() - started} ms`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  build().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
