/**
 * A real authoritative BIND 9 on the local engine, for tests of what the
 * applier (or anything else) writes into DNS:
 *
 *   const bind = await startBind({ zones: ['example.test'] });
 *   // ... point a dns provider at 127.0.0.1:bind.port with bind.keyName/keyAlgorithm/keySecret
 *   await bind.query('mail.example.test', 'MX');   // what the server answers, over TCP
 *   await bind.zoneText('example.test');           // the whole zone (AXFR), as dig prints it
 *   await bind.nsupdate(['update delete x.example.test. TXT']); // a change behind the applier's back
 *   await bind.stop();
 *
 * The image (debian:bookworm-slim + bind9, never pulled from a registry) is
 * built once and tagged by the hash of test/support/bind, so later runs reuse
 * it. Each server is a container named `mailstack-test-bind-<random>` with a
 * random TSIG secret, port 53 (TCP and UDP) published on 127.0.0.1 only; stop()
 * removes it. The reads (query, zoneText) use no code of the applier: query is
 * dns-packet over TCP, zoneText and nsupdate are BIND's own dig and nsupdate.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import * as dnsPacket from 'dns-packet';
import { pack } from 'tar-stream';
import { docker, ensureTestImage, execIn } from './docker';

export const BIND_DIR = join(__dirname, 'bind');

export type TsigAlgorithm = 'hmac-sha256' | 'hmac-sha512' | 'hmac-sha1' | 'hmac-md5';

export interface BindOptions {
  /** Zone names (with or without the trailing dot); each gets an SOA, an NS and the name server's A record. */
  readonly zones: readonly string[];
  /** @default 'mailstack-test.' */
  readonly keyName?: string;
  /** @default 'hmac-sha256' */
  readonly keyAlgorithm?: TsigAlgorithm;
}

/** One record of an answer, as dns-packet decodes it (TXT data: one Buffer per character-string). */
export interface BindRecord {
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  readonly data: unknown;
}

export interface BindServer {
  /** The container's name. */
  readonly container: string;
  /** Always 127.0.0.1. */
  readonly host: string;
  /** Published for both TCP and UDP on host. */
  readonly port: number;
  /** The TSIG key allowed to update every zone: name (fully qualified), algorithm, base64 secret. */
  readonly keyName: string;
  readonly keyAlgorithm: TsigAlgorithm;
  readonly keySecret: string;
  /** The records of that type the server answers for name (none when NXDOMAIN or no data), over TCP, unsigned. */
  query(name: string, type: string): Promise<BindRecord[]>;
  /** The response code and all records of the answer, for asserting on NXDOMAIN and the like. */
  queryRaw(name: string, type: string): Promise<{ rcode: string; answers: BindRecord[] }>;
  /** The whole zone as `dig AXFR` prints it (one record a line, the SOA once). */
  zoneText(zone: string): Promise<string>;
  /** Runs named-checkzone on a zone file's text inside the server's container. */
  checkZone(zone: string, text: string): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Sends one signed dynamic update made of nsupdate commands (`update add ...`, `update delete ...`); throws if refused. */
  nsupdate(commands: readonly string[]): Promise<void>;
  /** named's log (it runs in the foreground, logging to stderr). */
  logs(): Promise<string>;
  /** Removes the container; calling it twice is fine. */
  stop(): Promise<void>;
}

const ALGORITHMS: readonly TsigAlgorithm[] = ['hmac-sha256', 'hmac-sha512', 'hmac-sha1', 'hmac-md5'];

/** Builds the BIND image unless an image of the same context is there already; returns its tag. */
export const ensureBindImage = () => ensureTestImage(BIND_DIR, 'mailstack-test-bind');

const fqdn = (name: string) => (name.endsWith('.') ? name : `${name}.`);

/** The zone file: serial 1, short timers, the server itself as NS at 127.0.0.1. */
function zoneFile(zone: string): string {
  const origin = fqdn(zone);
  return [
    `$ORIGIN ${origin}`,
    '$TTL 300',
    `@ IN SOA ns.${origin} hostmaster.${origin} 1 3600 600 86400 300`,
    `@ IN NS ns.${origin}`,
    'ns IN A 127.0.0.1',
    '',
  ].join('\n');
}

function namedConf(zones: readonly string[], keyName: string, keyAlgorithm: string, keySecret: string): string {
  const zoneBlocks = zones
    .map((z) => fqdn(z).slice(0, -1))
    .map((z) => `zone "${z}" {\n  type primary;\n  file "/var/lib/bind/${z}.db";\n  allow-update { key "${keyName}"; };\n};\n`)
    .join('\n');
  return readFileSync(join(BIND_DIR, 'named.conf.template'), 'utf8')
    .replace(/@KEY_NAME@/g, keyName)
    .replace(/@KEY_ALGORITHM@/g, keyAlgorithm)
    .replace(/@KEY_SECRET@/g, keySecret)
    .replace(/^@ZONES@$/m, zoneBlocks);
}

/** A port free on 127.0.0.1 for TCP and for UDP alike (the container publishes both on it). */
async function freeTcpUdpPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port: p } = server.address() as { port: number };
        server.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no port free for both TCP and UDP on 127.0.0.1');
}

/** One DNS query over TCP (length-prefixed, RFC 1035 4.2.2), with dns-packet: independent of the applier's code. */
async function tcpQuery(port: number, name: string, type: string): Promise<dnsPacket.DecodedPacket> {
  const request = dnsPacket.streamEncode({
    type: 'query',
    id: randomBytes(2).readUInt16BE(0),
    flags: 0,
    questions: [{ name: name.replace(/\.$/, ''), type: type as dnsPacket.RecordType, class: 'IN' }],
  });
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let settled = false;
    const settle = (err: Error | undefined, packet?: dnsPacket.DecodedPacket) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(packet as dnsPacket.DecodedPacket);
    };
    // Before named listens, Docker's proxy accepts the connection and closes it: that must fail too, not hang.
    const timer = setTimeout(() => settle(new Error(`query ${name} ${type} on 127.0.0.1:${port} timed out`)), 5000);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) {
        try {
          settle(undefined, dnsPacket.decode(data.subarray(2, 2 + data.readUInt16BE(0))));
        } catch (err) {
          settle(err as Error);
        }
      }
    });
    socket.on('error', (err) => settle(err));
    socket.on('close', () => settle(new Error(`query ${name} ${type} on 127.0.0.1:${port}: connection closed without an answer`)));
  });
}

const exec = execIn;

/** Starts a BIND serving `zones`, and waits until it answers for every one of them. */
export async function startBind(options: BindOptions): Promise<BindServer> {
  const keyName = fqdn(options.keyName ?? 'mailstack-test.').toLowerCase();
  const keyAlgorithm = options.keyAlgorithm ?? 'hmac-sha256';
  if (!ALGORITHMS.includes(keyAlgorithm)) throw new Error(`startBind: algorithm ${keyAlgorithm} is not one of ${ALGORITHMS.join(', ')}`);
  if (options.zones.length === 0) throw new Error('startBind: at least one zone');
  const keySecret = randomBytes(32).toString('base64');
  const image = await ensureBindImage();
  const container = `mailstack-test-bind-${randomBytes(4).toString('hex')}`;

  // The port is chosen free, but another process may take it before Docker binds it: try again then.
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freeTcpUdpPort();
    const c = await docker.createContainer({
      name: container,
      Image: image,
      Labels: { 'mailstack.test': 'bind' },
      ExposedPorts: { '53/tcp': {}, '53/udp': {} },
      HostConfig: {
        PortBindings: { '53/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }], '53/udp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
      },
    });
    const tar = pack();
    tar.entry({ name: 'etc/bind/named.conf', mode: 0o644 }, namedConf(options.zones, keyName, keyAlgorithm, keySecret));
    for (const z of options.zones) tar.entry({ name: `var/lib/bind/${fqdn(z).slice(0, -1)}.db`, mode: 0o644 }, zoneFile(z));
    tar.finalize();
    await c.putArchive(tar as unknown as NodeJS.ReadableStream, { path: '/' });
    try {
      await c.start();
      break;
    } catch (err) {
      await c.remove({ force: true });
      if (attempt >= 3 || !/address already in use|port is already allocated/i.test((err as Error).message)) throw err;
    }
  }

  const logs = async () => {
    const buffer = (await docker.getContainer(container).logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    // Docker's multiplexed log frames: 8-byte headers, the payload after each.
    const parts: Buffer[] = [];
    for (let i = 0; i + 8 <= buffer.length; i += 8 + buffer.readUInt32BE(i + 4)) parts.push(buffer.subarray(i + 8, i + 8 + buffer.readUInt32BE(i + 4)));
    return Buffer.concat(parts).toString();
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      await docker.getContainer(container).remove({ force: true });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
  };

  const queryRaw = async (name: string, type: string) => {
    const response = await tcpQuery(port, name, type);
    // dns-packet decodes the RCODE, its types do not declare it.
    return { rcode: (response as { rcode?: string }).rcode ?? 'NOERROR', answers: (response.answers ?? []) as BindRecord[] };
  };
  const server: BindServer = {
    container,
    host: '127.0.0.1',
    port,
    keyName,
    keyAlgorithm,
    keySecret,
    queryRaw,
    async query(name, type) {
      const { answers } = await queryRaw(name, type);
      return answers.filter((a) => a.type === type);
    },
    async zoneText(zone) {
      const r = await exec(container, ['dig', '+noall', '+answer', '+onesoa', '@127.0.0.1', 'AXFR', fqdn(zone)]);
      if (r.exitCode !== 0 || /Transfer failed|failed/i.test(r.stdout)) throw new Error(`AXFR of ${zone} from ${container}: ${r.stdout}${r.stderr}`);
      return r.stdout;
    },
    async checkZone(zone, text) {
      const file = await putFile(`/tmp/zone-${randomBytes(4).toString('hex')}`, text);
      return exec(container, ['named-checkzone', '-i', 'full', fqdn(zone), file]);
    },
    async nsupdate(commands) {
      const script = ['server 127.0.0.1 53', ...commands, 'send', ''].join('\n');
      const file = await putFile(`/tmp/nsupdate-${randomBytes(4).toString('hex')}`, script);
      const r = await exec(container, ['nsupdate', '-y', `${keyAlgorithm}:${keyName}:${keySecret}`, file]);
      if (r.exitCode !== 0) throw new Error(`nsupdate on ${container} failed: ${r.stdout}${r.stderr}`);
    },
    logs,
    stop,
  };

  /** Files go in by archive: exec has no stdin here. */
  async function putFile(path: string, content: string): Promise<string> {
    const tar = pack();
    tar.entry({ name: path.slice(1), mode: 0o600 }, content);
    tar.finalize();
    await docker.getContainer(container).putArchive(tar as unknown as NodeJS.ReadableStream, { path: '/' });
    return path;
  }

  // Ready when every zone's SOA is served.
  const deadline = Date.now() + 30_000;
  for (const zone of options.zones) {
    for (;;) {
      try {
        if ((await server.query(zone, 'SOA')).length > 0) break;
      } catch {
        // not listening yet
      }
      const info = await docker.getContainer(container).inspect();
      if (!info.State.Running || Date.now() > deadline) {
        const log = await logs().catch(() => '');
        await stop();
        throw new Error(`BIND in ${container} did not come up serving ${zone}:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return server;
}
