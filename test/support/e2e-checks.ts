import { expect } from '@jest/globals';
import type { ServiceName } from '@musubi/contracts';
import type { TestFleet } from './test-fleet.js';

/** An RFC 9457 problem as the gateway sends it. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
  errors?: Array<{ pointer: string; detail: string }>;
}

/** What must never appear in a response a client sees: stacks, paths, internal error names. */
const LEAKS: ReadonlyArray<[string, RegExp]> = [
  ['a stack frame', /\bat (?:async )?[\w.<>$]+ \(|\n\s+at /],
  ['a source path', /\/work\/|node_modules|\.ts:\d|\.js:\d|file:\/\//],
  ['an internal error name', /SyntaxError|TypeError|ReferenceError|RangeError|QueryFailedError|FST_ERR_|ECONNREFUSED/],
  ['a JSON parser message', /Unexpected token|Unexpected end of JSON|in JSON at position/],
];

/** Fails naming what leaked. */
export function expectNoLeak(body: string): void {
  for (const [what, re] of LEAKS) {
    const m = re.exec(body);
    expect(m ? `${what}: ${m[0]} in ${body.slice(0, 300)}` : null).toBeNull();
  }
}

/**
 * Reads a response that must be a problem with the given status: the media type,
 * every required member, the status repeated in the body, the request id matching
 * the `X-Request-Id` header, and nothing internal in the body.
 */
export async function expectProblem(res: Response, status: number): Promise<ProblemBody> {
  const text = await res.text();
  expect({ status: res.status, body: text.slice(0, 300) }).toEqual({ status, body: expect.any(String) });
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expectNoLeak(text);
  const p = JSON.parse(text) as ProblemBody;
  expect(p).toEqual(
    expect.objectContaining({
      type: expect.stringMatching(/^urn:musubi:problem:[a-z_]+$/),
      title: expect.any(String),
      status,
      detail: expect.any(String),
      code: expect.stringMatching(/^[a-z_]+$/),
      requestId: expect.any(String),
    }),
  );
  expect(p.detail.length).toBeGreaterThan(0);
  expect(p).not.toHaveProperty('stack');
  expect(p.requestId).toBe(res.headers.get('x-request-id'));
  return p;
}

export function managementUrl(f: TestFleet, service: ServiceName, path: string): string {
  const p = f.processes.find((s) => s.name === service);
  if (!p) throw new Error(`no such service ${service}`);
  return `http://127.0.0.1:${p.managementPort}${path}`;
}

export interface Readiness {
  readonly status: number;
  readonly body: { status: string; checks: Record<string, { status: 'up' | 'down'; error?: string }> };
}

/** `/health/ready` of one service, or null when its management port does not answer. */
export async function readiness(f: TestFleet, service: ServiceName): Promise<Readiness | null> {
  try {
    const res = await fetch(managementUrl(f, service, '/health/ready'), { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: (await res.json()) as Readiness['body'] };
  } catch {
    return null;
  }
}

/** The value of an unlabelled-by-us gauge or counter in a service's `/metrics`. */
export async function metricValue(f: TestFleet, service: ServiceName, name: string): Promise<number | null> {
  const text = await (await fetch(managementUrl(f, service, '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : null;
}

/** The JSON log lines of a service (pino), skipping anything that is not JSON. */
export function logRecords(f: TestFleet, service: ServiceName): Array<Record<string, unknown>> {
  return f.logs(service).flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}
