import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createTransport } from 'nodemailer';
import { captureLogs } from '@musubi/platform/testing';
import { loadConfig } from '@musubi/platform/config';
import { createMailer, DevMailSink, MailSendError, mailSettings, type DevMailSinkAddress, type Mailer, type SinkMessage, type SinkMessageSummary } from '@musubi/platform/mail';

// The development sink and the mailer against each other, over real SMTP and HTTP.

const SUBJECT = 'パスワードの再設定';
const BODY = 'こんにちは、山田太郎さん\n\n次のリンクからパスワードを再設定してください: https://musubi.localhost/reset?token=abc';
const HTML = '<p>こんにちは、<b>山田太郎</b>さん</p><p><a href="https://musubi.localhost/reset?token=abc">再設定する</a></p>';

let sink: DevMailSink;
let addr: DevMailSinkAddress;
let mailer: Mailer;
const logs = captureLogs('mail-test');

async function getJson<T>(path: string): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(`${addr.httpUrl}${path}`);
  return { status: res.status, body: (await res.json()) as T, headers: res.headers };
}

async function getPage(path: string): Promise<{ status: number; html: string; headers: Headers }> {
  const res = await fetch(`${addr.httpUrl}${path}`);
  return { status: res.status, html: await res.text(), headers: res.headers };
}

/** Unicode → ISO-2022-JP (JIS X 0208 in ESC $ B … ESC ( B), from the inverse of Node's own decoder. */
function toIso2022Jp(s: string): Buffer {
  const decoder = new TextDecoder('iso-2022-jp');
  const jis = new Map<string, [number, number]>();
  for (let a = 0x21; a <= 0x7e; a++) {
    for (let b = 0x21; b <= 0x7e; b++) {
      const ch = decoder.decode(Uint8Array.of(0x1b, 0x24, 0x42, a, b, 0x1b, 0x28, 0x42));
      if (ch.length === 1 && ch !== '\ufffd' && !jis.has(ch)) jis.set(ch, [a, b]);
    }
  }
  const out: number[] = [];
  let inJis = false;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x80) {
      if (inJis) out.push(0x1b, 0x28, 0x42);
      inJis = false;
      out.push(cp);
      continue;
    }
    const pair = jis.get(ch);
    if (!pair) throw new Error(`no JIS X 0208 code for ${ch}`);
    if (!inJis) out.push(0x1b, 0x24, 0x42);
    inJis = true;
    out.push(...pair);
  }
  if (inJis) out.push(0x1b, 0x28, 0x42);
  return Buffer.from(out);
}

/** Speaks SMTP by hand: the server's greeting, then its full reply to each command. */
async function smtpDialogue(port: number, commands: readonly string[]): Promise<string[]> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.setEncoding('utf8');
  const replies: string[] = [];
  let buffer = '';
  let pending: (() => void) | undefined;
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    // A reply ends with a line whose code is followed by a space (RFC 5321 §4.2.1).
    let end: RegExpExecArray | null;
    while ((end = /^\d{3} .*\r\n/m.exec(buffer))) {
      replies.push(buffer.slice(0, end.index + end[0].length).replace(/\r\n$/, '').replace(/\r\n/g, '\n'));
      buffer = buffer.slice(end.index + end[0].length);
      pending?.();
    }
  });
  const nextReply = (count: number) =>
    new Promise<void>((resolve, reject) => {
      if (replies.length >= count) return resolve();
      const timer = setTimeout(() => reject(new Error(`no SMTP reply ${count}; got ${JSON.stringify(replies)}`)), 5000);
      pending = () => {
        if (replies.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
  try {
    await nextReply(1);
    for (const [i, command] of commands.entries()) {
      socket.write(`${command}\r\n`);
      await nextReply(i + 2);
    }
    return replies;
  } finally {
    socket.destroy();
  }
}

beforeAll(async () => {
  sink = new DevMailSink();
  addr = await sink.start({ smtpPort: 0, httpPort: 0 });
  const config = loadConfig(mailSettings, { SMTP_URL: addr.smtpUrl });
  mailer = createMailer(config, logs.logger, { sendTimeoutMs: 10_000 });
});

afterAll(async () => {
  await mailer?.close();
  await sink?.stop();
});

beforeEach(() => sink.clear());

describe('mailer → dev mail sink', () => {
  it('delivers a Japanese subject, text and HTML intact, readable through the JSON API', async () => {
    const sent = await mailer.send({ to: '山田太郎 <yamada@example.jp>', subject: SUBJECT, text: BODY, html: HTML });
    expect(sent.messageId).toMatch(/^<.+@musubi\.localhost>$/);

    const list = await getJson<SinkMessageSummary[]>('/api/messages');
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(list.body).toHaveLength(1);
    const [summary] = list.body;
    expect(summary).toMatchObject({ subject: SUBJECT, from: 'Musubi <no-reply@musubi.localhost>', messageId: sent.messageId, recipients: ['yamada@example.jp'] });

    const detail = await getJson<SinkMessage>(`/api/messages/${summary?.id}`);
    expect(detail.status).toBe(200);
    const m = detail.body;
    expect(m.subject).toBe(SUBJECT);
    expect(m.to).toBe('山田太郎 <yamada@example.jp>');
    expect(m.text?.trim()).toBe(BODY);
    expect(m.html).toBe(HTML);
    expect(m.envelope).toEqual({ from: 'no-reply@musubi.localhost', to: ['yamada@example.jp'] });
    expect(m.headers['content-type']).toMatch(/^multipart\/alternative/);
    expect(Date.parse(m.date ?? '')).not.toBeNaN();
  });

  it('logs the recipient domain and message id, never the body, subject or address', async () => {
    const sent = await mailer.send({ to: 'secret-person@example.org', subject: SUBJECT, text: BODY });
    const line = logs.lines().find((l) => l['messageId'] === sent.messageId);
    expect(line).toMatchObject({ msg: 'mail sent', recipientDomain: 'example.org' });
    const text = logs.text();
    expect(text).not.toContain('secret-person');
    expect(text).not.toContain(SUBJECT);
    expect(text).not.toContain('token=abc');
  });

  it('filters the JSON list by recipient, ignoring case', async () => {
    await mailer.send({ to: 'Alice@Example.com', subject: 'for alice', text: 'a' });
    await mailer.send({ to: 'bob@example.com', subject: 'for bob', text: 'b' });

    const alice = await getJson<SinkMessageSummary[]>(`/api/messages?to=${encodeURIComponent('ALICE@example.COM')}`);
    expect(alice.body.map((m) => m.subject)).toEqual(['for alice']);
    const nobody = await getJson<SinkMessageSummary[]>('/api/messages?to=carol%40example.com');
    expect(nobody.body).toEqual([]);
    const all = await getJson<SinkMessageSummary[]>('/api/messages');
    expect(all.body.map((m) => m.subject)).toEqual(['for bob', 'for alice']);
  });

  it('escapes message values in the HTML pages and sends a strict CSP', async () => {
    await mailer.send({
      to: 'victim@example.com',
      subject: '<script>alert(1)</script>',
      text: 'see <img src=x onerror=alert(2)>',
      html: '<p>hi "there"</p><script>alert(3)</script>',
    });

    const list = await getPage('/');
    expect(list.status).toBe(200);
    expect(list.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(list.html).not.toContain('<script');
    const csp = list.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('script-src');
    expect(list.headers.get('x-content-type-options')).toBe('nosniff');

    const [m] = sink.messages();
    const page = await getPage(`/messages/${m?.id}`);
    expect(page.status).toBe(200);
    expect(page.html).not.toContain('<script');
    expect(page.html).not.toContain('<img');
    // The HTML part only as an attribute of a sandboxed frame, quotes escaped.
    expect(page.html).toContain(
      '<iframe sandbox srcdoc="&lt;p&gt;hi &quot;there&quot;&lt;/p&gt;&lt;script&gt;alert(3)&lt;/script&gt;"',
    );
    expect(page.headers.get('content-security-policy')).toBe(csp);
  });

  it('refuses a message over 10 MB with SMTP 552 and keeps nothing of it', async () => {
    const big = 'x'.repeat(76).concat('\n').repeat(Math.ceil((11 * 1024 * 1024) / 77));
    const err = await mailer.send({ to: 'big@example.com', subject: 'too big', text: big }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MailSendError);
    expect(err).toMatchObject({ responseCode: 552, permanent: true });
    expect(sink.messages()).toEqual([]);

    // The limit is advertised, and a client that declares a larger size is refused before it sends anything.
    const dialogue = await smtpDialogue(addr.smtpPort, ['EHLO test.localhost', `MAIL FROM:<a@example.com> SIZE=${11 * 1024 * 1024}`, 'QUIT']);
    expect(dialogue[1]).toMatch(/^250[ -]SIZE 10485760$/m);
    expect(dialogue[2]).toMatch(/^552 /);

    // A message just under the limit still goes through.
    await mailer.send({ to: 'big@example.com', subject: 'fits', text: 'y'.repeat(76).concat('\n').repeat(Math.floor((9 * 1024 * 1024) / 77)) });
    expect(sink.messages().map((m) => m.subject)).toEqual(['fits']);
  });

  it('decodes ISO-2022-JP mail sent with nodemailer', async () => {
    const transport = createTransport({ host: '127.0.0.1', port: addr.smtpPort, secure: false });
    try {
      // nodemailer always labels `text`/`html` as UTF-8 (textEncoding/encoding only pick Q/B and the
      // transfer encoding), so a legacy charset goes in as a pre-encoded alternative and a prepared header.
      await transport.sendMail({
        from: 'no-reply@musubi.localhost',
        to: 'jis@example.jp',
        headers: { Subject: { prepared: true, value: `=?ISO-2022-JP?B?${toIso2022Jp(SUBJECT).toString('base64')}?=` } },
        alternatives: [{ contentType: 'text/plain; charset=ISO-2022-JP', content: toIso2022Jp('こんにちは、山田太郎さん\r\n') }],
      });
      // The classic form: 7bit ISO-2022-JP with the escape sequences on the wire, as a raw message.
      await transport.sendMail({
        envelope: { from: 'no-reply@musubi.localhost', to: ['jis-raw@example.jp'] },
        raw: Buffer.concat([
          Buffer.from(
            'From: no-reply@musubi.localhost\r\nTo: jis-raw@example.jp\r\n' +
              `Subject: =?ISO-2022-JP?B?${toIso2022Jp('ご登録ありがとうございます').toString('base64')}?=\r\n` +
              'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n',
          ),
          toIso2022Jp('山田太郎様\r\nご登録ありがとうございます。\r\n'),
        ]),
      });
    } finally {
      transport.close();
    }

    const [viaAlternative] = sink.messages({ to: 'jis@example.jp' });
    expect(viaAlternative?.headers['content-type']).toBe('text/plain; charset=ISO-2022-JP');
    expect(viaAlternative?.subject).toBe(SUBJECT);
    expect(viaAlternative?.text?.trim()).toBe('こんにちは、山田太郎さん');

    const [raw] = sink.messages({ to: 'jis-raw@example.jp' });
    expect(raw?.subject).toBe('ご登録ありがとうございます');
    expect(raw?.text?.trim()).toBe('山田太郎様\nご登録ありがとうございます。');
    const viaApi = await getJson<SinkMessage>(`/api/messages/${raw?.id}`);
    expect(viaApi.body.text?.trim()).toBe('山田太郎様\nご登録ありがとうございます。');
  });

  it('lets a test wait for a message, and gives up after the timeout', async () => {
    const waiting = sink.waitForMessage((m) => m.recipients.includes('later@example.com'), 10_000);
    await mailer.send({ to: 'other@example.com', subject: 'not this one', text: '-' });
    await mailer.send({ to: 'later@example.com', subject: 'this one', text: '-' });
    await expect(waiting).resolves.toMatchObject({ subject: 'this one' });

    // Already held: answers at once.
    await expect(sink.waitForMessage((m) => m.subject === 'not this one', 10)).resolves.toMatchObject({ subject: 'not this one' });
    await expect(sink.waitForMessage((m) => m.subject === 'never sent', 50)).rejects.toThrow('no matching mail arrived within 50 ms');
  });

  it('keeps only the newest messages beyond its cap', async () => {
    const small = new DevMailSink({ maxMessages: 2 });
    const at = await small.start();
    const transport = createTransport({ host: '127.0.0.1', port: at.smtpPort, secure: false });
    try {
      for (const n of [1, 2, 3]) await transport.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: `n${n}`, text: '-' });
      expect(small.messages().map((m) => m.subject)).toEqual(['n3', 'n2']);
    } finally {
      transport.close();
      await small.stop();
    }
  });

  it('DELETE /api/messages clears the mailbox', async () => {
    await mailer.send({ to: 'one@example.com', subject: 'one', text: '1' });
    await mailer.send({ to: 'two@example.com', subject: 'two', text: '2' });
    expect((await getJson<unknown[]>('/api/messages')).body).toHaveLength(2);

    const res = await fetch(`${addr.httpUrl}/api/messages`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect((await getJson<unknown[]>('/api/messages')).body).toEqual([]);
    expect((await getPage('/')).html).toContain('No mail yet.');
  });

  it('answers 404 for an unknown message and 405 for a wrong method', async () => {
    expect((await getJson<{ error: string }>('/api/messages/nope')).status).toBe(404);
    expect((await getPage('/messages/nope')).status).toBe(404);
    const res = await fetch(`${addr.httpUrl}/api/messages`, { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, DELETE');
  });
});

describe('mailer send timeout', () => {
  let silent: Server;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    // Accepts connections and never says a word: no greeting, no reply.
    silent = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('fails a send the server never answers with a transient timeout error', async () => {
    const port = (silent.address() as { port: number }).port;
    const slow = createMailer(loadConfig(mailSettings, { SMTP_URL: `smtp://127.0.0.1:${port}` }), captureLogs().logger, { sendTimeoutMs: 300 });
    try {
      const err = await slow.send({ to: 'x@example.com', subject: 's', text: 't' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MailSendError);
      expect(err).toMatchObject({ code: 'ETIMEDOUT', permanent: false });
    } finally {
      await slow.close();
    }
  });
});

describe('mail settings', () => {
  it('defaults to the dev sink and refuses bad values without echoing the secret URL', () => {
    expect(loadConfig(mailSettings, {})).toEqual({ SMTP_URL: 'smtp://127.0.0.1:2525', MAIL_FROM: 'Musubi <no-reply@musubi.localhost>' });
    expect(() => loadConfig(mailSettings, { SMTP_URL: 'http://user:hunter2@mail.example.com' })).toThrow(/SMTP_URL: must use smtp: or smtps:$/m);
    expect(() => loadConfig(mailSettings, { SMTP_URL: 'smtps://user:hunter2@mail.example.com?tls.rejectUnauthorized=false' })).toThrow(
      /SMTP_URL: must not carry query parameters/,
    );
    expect(() => loadConfig(mailSettings, { MAIL_FROM: 'a@example.com, b@example.com' })).toThrow(/MAIL_FROM: must be exactly one address/);
    expect(() => loadConfig(mailSettings, { MAIL_FROM: 'Musubi' })).toThrow(/MAIL_FROM: must be an address/);
    expect(loadConfig(mailSettings, { MAIL_FROM: '結 <noreply@example.jp>', SMTP_URL: 'smtps://u%40x:p%3A@mail.example.com' })).toMatchObject({
      MAIL_FROM: '結 <noreply@example.jp>',
    });
  });
});
