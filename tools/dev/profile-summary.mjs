#!/usr/bin/env node
// Summarises a V8 .cpuprofile: self time by function, or by package with --packages.
import { readFileSync } from 'node:fs';
const [file, mode] = process.argv.slice(2);
const p = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
let total = 0;
for (let i = 0; i < p.samples.length; i++) {
  const n = byId.get(p.samples[i]);
  const url = n.callFrame.url.replace(/.*node_modules\//, '').replace(/.*\/work\/main\//, '');
  const key = mode === '--packages' ? (url.split('/').slice(0, url.startsWith('@') ? 2 : 1).join('/') || n.callFrame.functionName) : `${n.callFrame.functionName || '(anon)'} ${url}:${n.callFrame.lineNumber}`;
  const dt = p.timeDeltas[i] ?? 0;
  if (n.callFrame.functionName !== '(idle)') total += dt;
  self.set(key, (self.get(key) ?? 0) + dt);
}
console.log(`busy ms: ${(total / 1000).toFixed(0)}`);
[...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(process.argv[4] ?? 30)).forEach(([k, v]) => console.log(`${(v / 1000).toFixed(1).padStart(9)}  ${k}`));
