import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type Question } from 'dns-packet';
import { freePort } from './ports.js';

/** How the server treats queries for a name (or for every name, with `'*'`). */
export interface DnsBehaviour {
  /** Answer only after this many milliseconds. */
  readonly delayMs?: number;
  /** Never answer (the resolver times out). */
  readonly drop?: boolean;
  /** Answer with this error instead of the records. */
  readonly rcode?: 'SERVFAIL' | 'REFUSED';
}

/** One query the server received, in arrival order. */
export interface DnsQueryLog {
  readonly name: string;
  readonly type: string;
  readonly transport: 'udp' | 'tcp';
}

/**
 * A TXT record: one string, or the character-strings it is split into on the
 * wire (a resolver hands them back as chunks to be joined).
 */
export type TxtValue = string | readonly string[];

export interface DnsServer {
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:port`, as `DNS_SERVERS` takes it. */
  readonly address: string;
  /** Replaces the TXT records at `name` (case-insensitive, trailing dot optional). */
  setTxt(name: string, values: readonly TxtValue[]): void;
  /** Removes every record at `name`: it answers NXDOMAIN again. */
  remove(name: string): void;
  /** Sets (or with `null` clears) how queries for `name`, or `'*'` for all names, are treated. */
  behave(name: string, behaviour: DnsBehaviour | null): void;
  /** Every query received so far. */
  readonly queries: readonly DnsQueryLog[];
  stop(): Promise<void>;
}

export interface DnsServerOptions {
  /** Loopback by default. */
  readonly host?: string;
  /** The TTL of every answer (0: resolvers do not cache). */
  readonly ttl?: number;
}

const key = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/** Character-strings are at most 255 bytes on the wire: longer strings are split, as zone files do. */
function chunks(value: TxtValue): Buffer[] {
  const parts = typeof value === 'string' ? [value] : [...value];
  return parts.flatMap((p) => {
    const bytes = Buffer.from(p, 'utf8');
    if (bytes.length === 0) return [bytes];
    const out: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 255) out.push(bytes.subarray(i, i + 255));
    return out;
  });
}

/**
 * A real authoritative DNS server on loopback for tests, over UDP and TCP (RFC
 * 1035 §4.2.2 framing) on the same port, answering TXT records that the test
 * sets and removes while it runs. Unknown names get NXDOMAIN, a known name
 * asked for another type (or an empty non-terminal) an empty NOERROR answer.
 * A UDP answer larger than the client's buffer (512 bytes, or its EDNS size)
 * is sent truncated (TC), so the resolver retries over TCP as it would with a
 * real server. Answers can be delayed, dropped or turned into SERVFAIL.
 */
export async function startDnsServer(opts: DnsServerOptions = {}): Promise<DnsServer> {
  const host = opts.host ?? '127.0.0.1';
  const ttl = opts.ttl ?? 0;
  const records = new Map<string, Buffer[][]>();
  const behaviours = new Map<string, DnsBehaviour>();
  const queries: DnsQueryLog[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();

  const exists = (name: string): boolean => {
    if (records.has(name)) return true;
    for (const n of records.keys()) if (n.endsWith(`.${name}`)) return true;
    return false;
  };

  function answer(query: DecodedPacket, transport: 'udp' | 'tcp'): { packet: Buffer; behaviour: DnsBehaviour } | null {
    const question: Question | undefined = query.questions?.[0];
    const base = {
      type: 'response' as const,
      id: query.id ?? 0,
      questions: query.questions ?? [],
    };
    const recursionDesired = query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0;
    if (!question) {
      return { packet: dnsPacket.encode({ ...base, flags: 1 /* FORMERR */ }), behaviour: {} };
    }
    const name = key(question.name);
    queries.push({ name, type: question.type, transport });
    const behaviour = { ...behaviours.get('*'), ...behaviours.get(name) };
    if (behaviour.drop) return null;
    if (behaviour.rcode) {
      const rcode = behaviour.rcode === 'SERVFAIL' ? 2 : 5;
      return { packet: dnsPacket.encode({ ...base, flags: recursionDesired | rcode }), behaviour };
    }
    const aa = dnsPacket.AUTHORITATIVE_ANSWER | recursionDesired;
    if (!exists(name)) return { packet: dnsPacket.encode({ ...base, flags: aa | 3 /* NXDOMAIN */ }), behaviour };
    const txt = question.type === 'TXT' || String(question.type) === 'ANY' ? (records.get(name) ?? []) : [];
    const answers: Answer[] = txt.map((data) => ({ type: 'TXT', name: question.name, class: 'IN', ttl, data }));
    let packet = dnsPacket.encode({ ...base, flags: aa, answers });
    if (transport === 'udp') {
      const opt = query.additionals?.find((a) => a.type === 'OPT');
      const limit = Math.max(512, opt && 'udpPayloadSize' in opt ? opt.udpPayloadSize : 512);
      if (packet.length > limit) packet = dnsPacket.encode({ ...base, flags: aa | dnsPacket.TRUNCATED_RESPONSE });
    }
    return { packet, behaviour };
  }

  function later(ms: number, fn: () => void): void {
    if (!ms) return fn();
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  }

  function decode(buf: Buffer): DecodedPacket | null {
    try {
      return dnsPacket.decode(buf);
    } catch {
      return null; // not DNS: ignored, like a real server would
    }
  }

  const onUdp = (udp: UdpSocket) => (msg: Buffer, from: RemoteInfo) => {
    const query = decode(msg);
    const reply = query && answer(query, 'udp');
    if (!reply) return;
    later(reply.behaviour.delayMs ?? 0, () => udp.send(reply.packet, from.port, from.address, () => undefined));
  };

  function onTcp(socket: Socket): void {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (pending.length < 2 + length) break;
        const query = decode(pending.subarray(2, 2 + length));
        pending = pending.subarray(2 + length);
        const reply = query && answer(query, 'tcp');
        if (!reply) continue;
        const framed = Buffer.alloc(2 + reply.packet.length);
        framed.writeUInt16BE(reply.packet.length, 0);
        reply.packet.copy(framed, 2);
        later(reply.behaviour.delayMs ?? 0, () => {
          if (!socket.destroyed) socket.write(framed);
        });
      }
    });
  }

  // UDP and TCP on the same port: take a free TCP port, then bind UDP to it (retried if that one is taken).
  let udp: UdpSocket | undefined;
  let tcp: Server | undefined;
  let port = 0;
  for (let attempt = 0; attempt < 20 && !udp; attempt++) {
    port = await freePort();
    const t = createServer(onTcp);
    const u = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        t.once('error', reject);
        t.listen(port, host, () => resolve());
      });
      await new Promise<void>((resolve, reject) => {
        u.once('error', reject);
        u.bind(port, host, () => resolve());
      });
      u.on('message', onUdp(u));
      u.on('error', () => undefined);
      tcp = t;
      udp = u;
    } catch {
      t.close();
      u.close();
    }
  }
  if (!udp || !tcp) throw new Error('no port free for a DNS server on both UDP and TCP');
  const [u, t] = [udp, tcp];

  return {
    host,
    port,
    address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
    setTxt(name, values) {
      records.set(key(name), values.map(chunks));
    },
    remove(name) {
      records.delete(key(name));
    },
    behave(name, behaviour) {
      const k = name === '*' ? '*' : key(name);
      if (behaviour) behaviours.set(k, behaviour);
      else behaviours.delete(k);
    },
    queries,
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise<void>((resolve) => t.close(() => resolve())), new Promise<void>((resolve) => u.close(() => resolve()))]);
    },
  };
}
