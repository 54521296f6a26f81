#!/usr/bin/env node
// The development mail sink, standalone: an SMTP server that accepts any mail and a
// small web mailbox to read it. Services reach it with the default SMTP_URL.
//
//   node tools/dev/mail-sink.mjs        (after `npm run build`)
//
// MAIL_SINK_SMTP_PORT (default 2525), MAIL_SINK_HTTP_PORT (default 8025), 0 for a free
// port; MAIL_SINK_HOST (default 127.0.0.1: the sink has no authentication).
const dist = (concern) => new URL(`../../libs/platform/dist/${concern}/index.js`, import.meta.url).href;

let DevMailSink, createLogger;
try {
  ({ DevMailSink } = await import(dist('mail')));
  ({ createLogger } = await import(dist('logging')));
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && /\/libs\/platform\/dist\/\w+\/index\.js/.test(String(err.message))) {
    console.error('mail-sink: libs/platform/dist is not built; run `npm run build` first.');
    process.exit(1);
  }
  throw err;
}

function port(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535) {
    console.error(`mail-sink: ${name} must be a port number (0 to 65535), got "${raw}"`);
    process.exit(1);
  }
  return n;
}

// One JSON line per received message (id, size, recipient domains).
const sink = new DevMailSink({ logger: createLogger({ service: 'mail-sink', level: 'info' }) });
let address;
try {
  address = await sink.start({
    smtpPort: port('MAIL_SINK_SMTP_PORT', 2525),
    httpPort: port('MAIL_SINK_HTTP_PORT', 8025),
    host: process.env.MAIL_SINK_HOST || '127.0.0.1',
  });
} catch (err) {
  console.error(`mail-sink: cannot start: ${err.message}`);
  process.exit(1);
}
console.log(`mail-sink: SMTP ${address.smtpUrl}`);
console.log(`mail-sink: web  ${address.httpUrl}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) process.exit(1); // a second signal: do not wait
    stopping = true;
    sink.stop().then(
      () => process.exit(0),
      (err) => {
        console.error(`mail-sink: ${err.message}`);
        process.exit(1);
      },
    );
  });
}
