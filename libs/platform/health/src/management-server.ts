import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { HealthRegistry } from './health.js';
import { metricsRegistry } from './metrics.js';

/**
 * The per-service operations endpoint: `/health/live`, `/health/ready`, `/metrics`.
 * Plain node:http, so it answers even when the service's own framework is busy or
 * broken; it is meant for the cluster's probes and Prometheus, not the public.
 */
export class ManagementServer {
  private server: Server | undefined;

  constructor(
    private readonly health: HealthRegistry,
    private readonly port: number,
    private readonly host = '0.0.0.0',
  ) {}

  async start(): Promise<number> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => resolve());
    });
    const addr = server.address();
    return typeof addr === 'object' && addr ? addr.port : this.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' });
    try {
      switch (path) {
        case '/health/live':
          return send(res, 200, { status: 'live' });
        case '/health/ready': {
          const report = await this.health.readiness();
          return send(res, report.status === 'ready' ? 200 : 503, report);
        }
        case '/metrics': {
          const body = await metricsRegistry.metrics();
          res.writeHead(200, { 'content-type': metricsRegistry.contentType, 'cache-control': 'no-store' });
          res.end(body);
          return;
        }
        default:
          return send(res, 404, { error: 'not found' });
      }
    } catch {
      return send(res, 500, { error: 'internal error' });
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}
