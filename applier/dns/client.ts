/**
 * The hashicorp/dns provider's `update` settings and its message exchange,
 * as the applier reproduces them: where updates go, over which transport,
 * with which TSIG key, how long to wait and how often to try again.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { connect, isIP } from 'node:net';
import { AttributeSpec, durationNs, UnsupportedError } from '../attributes';
import { signRequest, TSIG_ALGORITHMS, TsigAlgorithm, TsigKey, verifyResponse } from './tsig';
import { FLAG, rcodeName } from './wire';

/** The provider block's keys the applier implements (gssapi, Kerberos, is not). */
export const DNS_PROVIDER_ATTRIBUTES: AttributeSpec = {
  update: { server: true, port: true, transport: true, timeout: true, retries: true, recursive: true, key_name: true, key_algorithm: true, key_secret: true },
};

type Transport = 'udp' | 'udp4' | 'udp6' | 'tcp' | 'tcp4' | 'tcp6';
const TRANSPORTS: readonly Transport[] = ['udp', 'udp4', 'udp6', 'tcp', 'tcp4', 'tcp6'];

export interface DnsUpdateSettings {
  readonly server: string;
  readonly port: number;
  readonly transport: Transport;
  /** Per attempt. The provider's timeout "0" (its default) leaves miekg/dns's own 2 s. */
  readonly timeoutMs: number;
  /** Attempts on a timeout or SERVFAIL, as the provider counts them (at least one). */
  readonly retries: number;
  readonly recursive: boolean;
  /** Absent: messages go unsigned, as the provider sends them without key_name, key_algorithm and key_secret. */
  readonly key?: TsigKey;
}

/**
 * The settings from the provider's `update` block (a list of one, as cdktf
 * writes it, or an object), each one left out taken from the environment
 * exactly as the provider does (DNS_UPDATE_SERVER, DNS_UPDATE_PORT,
 * DNS_UPDATE_TRANSPORT, DNS_UPDATE_TIMEOUT, DNS_UPDATE_RETRIES,
 * DNS_UPDATE_RECURSIVE, DNS_UPDATE_KEYNAME, DNS_UPDATE_KEYALGORITHM,
 * DNS_UPDATE_KEYSECRET) and otherwise defaulted. The environment is read when
 * the settings are needed, so a secret kept out of cdk.tf.json is never written
 * anywhere by the applier either.
 */
export function dnsUpdateSettings(provider: Readonly<Record<string, unknown>> | undefined, env: NodeJS.ProcessEnv = process.env): DnsUpdateSettings {
  const blocks = provider?.update;
  const block = ((Array.isArray(blocks) ? blocks[0] : blocks) ?? {}) as Record<string, unknown>;
  // An attribute set in the block wins; unset (absent or null), a non-empty variable; then the default.
  const setting = (key: string, variable: string): string | undefined => {
    const value = block[key];
    // Provider blocks are taken as written: a reference would be sent literally, so it is refused.
    if (typeof value === 'string' && value.includes('${')) throw new UnsupportedError(`dns provider: ${key} "${value}": references in provider settings are not supported by the local applier`);
    if (value !== undefined && value !== null) return String(value);
    return env[variable] ? env[variable] : undefined;
  };
  const integer = (key: string, variable: string, fallback: number): number => {
    const text = setting(key, variable);
    if (text === undefined) return fallback;
    if (!/^[+-]?[0-9]+$/.test(text.trim())) throw new UnsupportedError(`dns provider: ${key} ${text} (or ${variable}) is not an integer`);
    return Number(text);
  };

  const server = setting('server', 'DNS_UPDATE_SERVER');
  if (!server) throw new UnsupportedError('dns provider: update server is not set (update.server or DNS_UPDATE_SERVER)');
  const port = integer('port', 'DNS_UPDATE_PORT', 53);
  if (port < 1 || port > 65535) throw new UnsupportedError(`dns provider: port ${port} is not a port`);
  const transport = (setting('transport', 'DNS_UPDATE_TRANSPORT') ?? 'udp') as Transport;
  if (!TRANSPORTS.includes(transport)) throw new UnsupportedError(`dns provider: unknown transport ${transport} (one of ${TRANSPORTS.join(', ')})`);
  const retries = integer('retries', 'DNS_UPDATE_RETRIES', 3);
  const recursiveText = setting('recursive', 'DNS_UPDATE_RECURSIVE') ?? 'false';
  if (!/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(recursiveText)) throw new UnsupportedError(`dns provider: recursive ${recursiveText} is not a boolean`);

  // Go's time.ParseDuration, or failing that whole seconds; 0 leaves the client's default.
  const timeoutText = setting('timeout', 'DNS_UPDATE_TIMEOUT') ?? '0';
  let timeoutMs: number;
  if (/^[+-]?[0-9]+$/.test(timeoutText)) timeoutMs = Number(timeoutText) * 1000;
  else {
    try {
      timeoutMs = durationNs(timeoutText) / 1e6;
    } catch {
      throw new UnsupportedError(`dns provider: invalid timeout: ${timeoutText}`);
    }
  }
  if (timeoutMs < 0) throw new UnsupportedError(`dns provider: timeout cannot be negative: ${timeoutText}`);

  const name = setting('key_name', 'DNS_UPDATE_KEYNAME') ?? '';
  const algorithm = setting('key_algorithm', 'DNS_UPDATE_KEYALGORITHM') ?? '';
  const secret = setting('key_secret', 'DNS_UPDATE_KEYSECRET') ?? '';
  let key: TsigKey | undefined;
  if (name || algorithm || secret) {
    if (!name || !algorithm || !secret) {
      throw new UnsupportedError('dns provider: when using authentication, "key_name", "key_secret" and "key_algorithm" should be non empty');
    }
    if (!name.endsWith('.')) throw new UnsupportedError('dns provider: "key_name" should be fully-qualified');
    if (!(algorithm in TSIG_ALGORITHMS)) throw new UnsupportedError(`dns provider: Unknown HMAC algorithm: ${algorithm}`);
    // Go's base64.StdEncoding: padded, no whitespace; Buffer.from would silently skip what is not base64.
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(secret)) {
      throw new UnsupportedError(`dns provider: the secret of key ${name} is not base64`);
    }
    key = { name: name.toLowerCase(), algorithm: algorithm as TsigAlgorithm, secret: Buffer.from(secret, 'base64') };
  }
  return { server, port, transport, timeoutMs: timeoutMs || 2000, retries, recursive: /^(1|t|T|TRUE|true|True)$/.test(recursiveText), key };
}

/** host:port, IPv6 in brackets, for messages. */
export const serverName = (s: DnsUpdateSettings) => (isIP(s.server) === 6 ? `[${s.server}]:${s.port}` : `${s.server}:${s.port}`);

class Timeout extends Error {}

/**
 * Sends a message (its ID is set here) and returns the response, checked:
 * same ID, a response, and, when a key is configured, signed by it. Like the
 * provider it tries again on a timeout or SERVFAIL, and a truncated UDP
 * answer is asked again over TCP. The RCODE is the caller's to judge; errors
 * say what went wrong, the caller says with which server and record set.
 */
export async function exchange(settings: DnsUpdateSettings, message: Buffer): Promise<Buffer> {
  let transport = settings.transport;
  const attempts = Math.max(1, settings.retries);
  let lastProblem = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const request = Buffer.from(message);
    const id = randomBytes(2).readUInt16BE(0);
    request.writeUInt16BE(id, 0);
    // Signed afresh on each attempt: the time signed must stay within the fudge.
    const signed = settings.key ? signRequest(request, settings.key, Math.floor(Date.now() / 1000)) : { wire: request, mac: Buffer.alloc(0) };
    let response: Buffer;
    try {
      response = transport.startsWith('tcp') ? await sendTcp(settings, transport, signed.wire) : await sendUdp(settings, transport, signed.wire, id);
    } catch (err) {
      if (!(err instanceof Timeout)) throw err;
      lastProblem = `no answer within ${settings.timeoutMs} ms over ${transport}`;
      continue;
    }
    const flags = response.readUInt16BE(2);
    if (response.readUInt16BE(0) !== id || !(flags & FLAG.QR)) throw new Error('the server answered with a message that is not the response to the request (ID or QR bit)');
    if (flags & FLAG.TC && transport.startsWith('udp')) {
      // Too big for a UDP answer: the same question over TCP (the provider gets there via EDNS0 first).
      transport = transport.replace('udp', 'tcp') as Transport;
      attempt--;
      continue;
    }
    if (settings.key) verifyResponse(response, signed.mac, settings.key, Math.floor(Date.now() / 1000));
    if ((flags & 0x0f) === 2 && attempt < attempts) {
      lastProblem = 'SERVFAIL';
      continue;
    }
    return response;
  }
  throw new Error(`${lastProblem === 'SERVFAIL' ? `the server answered ${rcodeName(2)}` : lastProblem} after ${attempts} attempt${attempts > 1 ? 's' : ''}`);
}

/** Resolves the server for the transport's address family (udp4/tcp4: IPv4 only, and so on). */
async function address(settings: DnsUpdateSettings, transport: Transport): Promise<{ address: string; family: 4 | 6 }> {
  const family = transport.endsWith('4') ? 4 : transport.endsWith('6') ? 6 : 0;
  const found = await lookup(settings.server, { family });
  return { address: found.address, family: found.family as 4 | 6 };
}

async function sendUdp(settings: DnsUpdateSettings, transport: Transport, wire: Buffer, id: number): Promise<Buffer> {
  const to = await address(settings, transport);
  const socket = createSocket(to.family === 6 ? 'udp6' : 'udp4');
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Timeout()), settings.timeoutMs);
      socket.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      // Datagrams that are not the answer to this ID (late answers to an earlier attempt) are ignored.
      socket.on('message', (msg: Buffer) => {
        if (msg.length >= 12 && msg.readUInt16BE(0) === id) {
          clearTimeout(timer);
          resolve(msg);
        }
      });
      socket.send(wire, settings.port, to.address, (err) => {
        if (err) {
          clearTimeout(timer);
          reject(err);
        }
      });
    });
  } finally {
    socket.close();
  }
}

/** RFC 1035 4.2.2: each message prefixed with its length. */
async function sendTcp(settings: DnsUpdateSettings, transport: Transport, wire: Buffer): Promise<Buffer> {
  const to = await address(settings, transport);
  return new Promise<Buffer>((resolve, reject) => {
    const socket = connect({ host: to.address, port: settings.port, family: to.family });
    let data = Buffer.alloc(0);
    let settled = false;
    const settle = (err: Error | undefined, response?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(response as Buffer);
    };
    const timer = setTimeout(() => settle(new Timeout()), settings.timeoutMs);
    socket.on('connect', () => socket.write(Buffer.concat([Buffer.from([wire.length >> 8, wire.length & 0xff]), wire])));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) settle(undefined, data.subarray(2, 2 + data.readUInt16BE(0)));
    });
    socket.on('error', (err) => settle(err));
    // Closed before a whole answer (a proxy with nothing behind it does that): an error, never a hang.
    socket.on('close', () => settle(new Error('the server closed the TCP connection without an answer')));
  });
}
