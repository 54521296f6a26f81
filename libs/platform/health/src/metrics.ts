import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process; `/metrics` serves it. */
export const metricsRegistry = new Registry();

let defaultsCollected = false;

/** Process metrics (CPU, memory, event-loop lag, GC) labelled with the service name. */
export function collectProcessMetrics(service: string): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  metricsRegistry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: metricsRegistry, prefix: 'musubi_' });
}

const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export const busMetrics = {
  handled: new Histogram({
    name: 'musubi_bus_handled_seconds',
    help: 'Requests this service answered, by subject and outcome (ok or error code)',
    labelNames: ['subject', 'outcome'] as const,
    buckets,
    registers: [metricsRegistry],
  }),
  requested: new Histogram({
    name: 'musubi_bus_requested_seconds',
    help: 'Requests this service sent to others, by subject and outcome',
    labelNames: ['subject', 'outcome'] as const,
    buckets,
    registers: [metricsRegistry],
  }),
  inFlight: new Gauge({
    name: 'musubi_bus_in_flight',
    help: 'Requests being handled right now',
    registers: [metricsRegistry],
  }),
  outboxPublished: new Counter({
    name: 'musubi_outbox_published_total',
    help: 'Events relayed from the outbox to JetStream',
    registers: [metricsRegistry],
  }),
  outboxErrors: new Counter({
    name: 'musubi_outbox_relay_errors_total',
    help: 'Failed relay rounds (the events stay in the outbox and are retried)',
    registers: [metricsRegistry],
  }),
  consumed: new Counter({
    name: 'musubi_events_consumed_total',
    help: 'Durable events handled, by stream and outcome (ok, retry, rejected)',
    labelNames: ['stream', 'outcome'] as const,
    registers: [metricsRegistry],
  }),
};

export const httpMetrics = {
  requests: new Histogram({
    name: 'musubi_http_request_seconds',
    help: 'HTTP requests served, by route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets,
    registers: [metricsRegistry],
  }),
};
