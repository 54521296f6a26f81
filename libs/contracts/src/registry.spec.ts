import { describe, expect, it } from '@jest/globals';
import { SERVICE_NAMES } from './common/services.js';
import { SUBJECT_PATTERN, type SubjectDefinition } from './common/subject.js';
import { SUBJECTS, SUBJECT_GROUPS } from './registry.js';

const all = Object.entries(SUBJECTS as Record<string, SubjectDefinition>);

describe('subject registry', () => {
  it.each(all.map(([s]) => s))('%s follows musubi.<owner>.<aggregate>.<verb>.v<N>', (subject) => {
    expect(subject).toMatch(SUBJECT_PATTERN);
  });

  it('names the owning service in the second segment of every subject', () => {
    const wrong = all.filter(([s, d]) => s.split('.')[1] !== d.owner).map(([s]) => s);
    expect(wrong).toEqual([]);
    expect(all.every(([, d]) => (SERVICE_NAMES as readonly string[]).includes(d.owner))).toBe(true);
  });

  it('defines no subject twice across groups', () => {
    const names = SUBJECT_GROUPS.flatMap((g) => Object.keys(g));
    const dupes = names.filter((n, i) => names.indexOf(n) !== i);
    expect(dupes).toEqual([]);
    expect(Object.keys(SUBJECTS)).toHaveLength(names.length);
  });

  it('names events in the past tense and commands in the imperative', () => {
    const verb = (s: string) => s.split('.')[3] ?? '';
    const pastTense = (v: string) => /(ed|sent|issued|revoked)$/.test(v.split('-').pop() ?? '');
    const badEvents = all.filter(([s, d]) => d.kind === 'event' && !pastTense(verb(s))).map(([s]) => s);
    const badCommands = all.filter(([s, d]) => d.kind === 'rpc' && pastTense(verb(s))).map(([s]) => s);
    expect(badEvents).toEqual([]);
    expect(badCommands).toEqual([]);
  });

  it('refuses unknown fields in every request and event payload', () => {
    const open = all
      .map(([s, d]) => [s, d.kind === 'rpc' ? d.request : d.payload] as const)
      .filter(([, schema]) => (schema as { additionalProperties?: unknown }).additionalProperties !== false)
      .map(([s]) => s);
    expect(open).toEqual([]);
  });

  it('rejects a subject that breaks the pattern', () => {
    for (const bad of ['musubi.directory.tenant.create', 'musubi.Directory.tenant.create.v1', 'musubi.directory.tenant.create.v0', 'other.directory.tenant.create.v1']) {
      expect(bad).not.toMatch(SUBJECT_PATTERN);
    }
  });
});
