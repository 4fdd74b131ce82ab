/**
 * Remote Docker hosts, end to end, without leaving this machine:
 * - tcp:// with TLS: a TLS proxy in this process (client certificates
 *   required, our own CA) in front of the local engine's socket;
 * - ssh://: a container running sshd whose `docker system dial-stdio`
 *   relays to the same socket, logged into with a key made here, its host
 *   key pinned in a known_hosts file made here.
 * One stack goes up through TLS, is changed through ssh, and is purged
 * through TLS again; the operator commands reach it both ways.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createServer as createTlsServer, Server as TlsServer, TLSSocket } from 'node:tls';
import Docker from 'dockerode';
import { pack } from 'tar-stream';
import { dockerFor } from '../../applier/apply';
import { queueList, targetOf } from '../../cli/operator-commands';
import { createCa } from '../support/ca';
import { docker, ensureTestImage } from '../support/docker';
import { exampleStack, freePort, TestStack } from '../support/stack';

jest.setTimeout(15 * 60_000);

const ENGINE_SOCKET = '/var/run/docker.sock';
const SSHD_DIR = join(__dirname, '..', 'support', 'sshd');

let work: string;
let stack: TestStack;
let proxy: TlsServer;
let proxyPort: number;
/** Bytes the proxy passed to the engine from clients with a verified certificate (HTTPS keeps connections alive: count traffic). */
let forwarded = 0;
const proxied = new Set<TLSSocket>();
let sshd: Docker.Container | undefined;
let sshdImage: string | undefined;
let sshPort: number;
let sshOptions: string[];
let pem: { ca: string; cert: string; key: string; rogueCert: string; rogueKey: string };

const tlsDocker = () => ({ host: `tcp://127.0.0.1:${proxyPort}`, tls: { caFile: 'ca.pem', certFile: 'client.pem', keyFile: 'client-key.pem' } });
const sshDocker = () => ({ host: `ssh://root@127.0.0.1:${sshPort}`, sshOptions });
/** Keeps bindAddress and namePrefix; replaces how the engine is reached. */
const reachVia = (how: Record<string, unknown>) => (doc: Record<string, unknown>) => {
  const { bindAddress, namePrefix } = doc.docker as Record<string, unknown>;
  doc.docker = { bindAddress, namePrefix, ...how };
};

const containersOf = (prefix: string) => docker.listContainers({ all: true, filters: { name: [`${prefix}-`] } });

/** The first line a server sends. */
function greeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = netConnect(port, '127.0.0.1');
    socket.setTimeout(30_000, () => socket.destroy(new Error(`no greeting on ${port}`)));
    let text = '';
    socket.on('data', (d) => {
      text += d.toString();
      if (text.includes('\n')) {
        socket.destroy();
        resolve(text.split('\r\n')[0]);
      }
    });
    socket.on('error', reject);
  });
}

async function startTlsProxy(): Promise<void> {
  const ca = await createCa('mailstack test engine CA');
  const server = await ca.issue('127.0.0.1', { server: { ipAddresses: ['127.0.0.1'] } });
  const client = await ca.issue('mailstack operator', 'client');
  const rogue = await (await createCa('someone else')).issue('mailstack operator', 'client');
  pem = { ca: ca.certPem, cert: client.certPem, key: client.keyPem, rogueCert: rogue.certPem, rogueKey: rogue.keyPem };
  // As dockerd --tlsverify: only clients with a certificate from our CA get to the engine.
  proxy = createTlsServer({ key: server.keyPem, cert: server.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (client: TLSSocket) => {
    const engine = netConnect(ENGINE_SOCKET);
    proxied.add(client);
    client.on('close', () => proxied.delete(client));
    client.on('data', (chunk: Buffer) => {
      if (client.authorized) forwarded += chunk.length;
    });
    client.pipe(engine).pipe(client);
    client.on('error', () => engine.destroy());
    engine.on('error', () => client.destroy());
    client.on('close', () => engine.destroy());
    engine.on('close', () => client.destroy());
  });
  proxy.on('tlsClientError', () => undefined);
  proxyPort = await freePort();
  await new Promise<void>((resolve) => proxy.listen(proxyPort, '127.0.0.1', resolve));
}

async function startSshd(): Promise<void> {
  const keygen = (file: string, comment: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  keygen(join(work, 'client_key'), 'mailstack test operator');
  keygen(join(work, 'host_key'), 'mailstack test host');
  sshdImage = await ensureTestImage(SSHD_DIR, 'mailstack-test-sshd');
  sshPort = await freePort();
  sshd = await docker.createContainer({
    name: `mailstack-test-sshd-${process.pid}`,
    Image: sshdImage,
    ExposedPorts: { '22/tcp': {} },
    HostConfig: { Binds: [`${ENGINE_SOCKET}:/var/run/docker.sock`], PortBindings: { '22/tcp': [{ HostIp: '127.0.0.1', HostPort: String(sshPort) }] } },
  });
  const tar = pack();
  tar.entry({ name: 'etc/ssh/ssh_host_ed25519_key', mode: 0o600 }, readFileSync(join(work, 'host_key')));
  tar.entry({ name: 'root/.ssh/authorized_keys', mode: 0o600 }, readFileSync(join(work, 'client_key.pub')));
  tar.finalize();
  await sshd.putArchive(tar as unknown as NodeJS.ReadableStream, { path: '/' });
  await sshd.start();
  // Pinned: ssh refuses any other host key (StrictHostKeyChecking=yes).
  const hostKey = readFileSync(join(work, 'host_key.pub'), 'utf8').trim();
  writeFileSync(join(work, 'known_hosts'), `[127.0.0.1]:${sshPort} ${hostKey}\n`);
  sshOptions = ['-F', '/dev/null', '-i', join(work, 'client_key'), '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${join(work, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes'];
  // sshd takes a moment to listen.
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await dockerFor({ host: `ssh://root@127.0.0.1:${sshPort}`, sshOpts: sshOptions }).ping();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'mailstack-remote-'));
  await startTlsProxy();
  await startSshd();
  stack = await exampleStack('remote', reachVia(tlsDocker()));
  const dir = dirname(stack.configPath);
  writeFileSync(join(dir, 'ca.pem'), pem.ca);
  writeFileSync(join(dir, 'client.pem'), pem.cert);
  writeFileSync(join(dir, 'client-key.pem'), pem.key, { mode: 0o600 });
});

afterAll(async () => {
  try {
    if (stack) {
      stack.edit(reachVia(tlsDocker()));
      await stack.down(true);
    }
  } finally {
    await sshd?.remove({ force: true });
    // The stack keeps its images locally (keep_locally), as deployed stacks should; a test's tags go.
    if (stack) {
      for (const image of await docker.listImages({ filters: { reference: [`${stack.prefix}-*`] } })) {
        for (const tag of image.RepoTags ?? []) if (tag.startsWith(`${stack.prefix}-`)) await docker.getImage(tag).remove();
      }
    }
    if (sshdImage) await docker.getImage(sshdImage).remove({ force: true }).catch(() => undefined);
    // Kept-alive HTTPS connections would hold close() open.
    for (const socket of proxied) socket.destroy();
    await new Promise((resolve) => proxy?.close(resolve));
    rmSync(work, { recursive: true, force: true });
  }
});

describe('the TLS engine port', () => {
  const client = (extra: Partial<Docker.DockerOptions>) => new Docker({ host: '127.0.0.1', port: proxyPort, protocol: 'https', ca: pem.ca, ...extra });

  it('lets a client with a certificate from its CA through, and no other', async () => {
    expect(String(await client({ cert: pem.cert, key: pem.key }).ping())).toBe('OK');
    await expect(client({}).ping()).rejects.toThrow();
    await expect(client({ cert: pem.rogueCert, key: pem.rogueKey }).ping()).rejects.toThrow();
  });
});

describe('the ssh host', () => {
  it('reaches the engine with the key and known_hosts given in sshOptions, and with nothing else', async () => {
    const viaSsh = dockerFor({ host: `ssh://root@127.0.0.1:${sshPort}`, sshOpts: sshOptions });
    const local = await docker.info();
    expect((await viaSsh.info()).ID).toBe(local.ID);
    // Another key: the login fails, with ssh's own reason.
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, 'other_key')]);
    const otherKey = sshOptions.map((o) => (o === join(work, 'client_key') ? join(work, 'other_key') : o));
    await expect(dockerFor({ host: `ssh://root@127.0.0.1:${sshPort}`, sshOpts: otherKey }).ping()).rejects.toThrow(/ssh exited with 255: .*Permission denied/);
    // A host key that is not the pinned one: refused before any login.
    writeFileSync(join(work, 'wrong_known_hosts'), `[127.0.0.1]:${sshPort} ${readFileSync(join(work, 'other_key.pub'), 'utf8')}`);
    const wrongHost = sshOptions.map((o) => (o.startsWith('UserKnownHostsFile=') ? `UserKnownHostsFile=${join(work, 'wrong_known_hosts')}` : o));
    await expect(dockerFor({ host: `ssh://root@127.0.0.1:${sshPort}`, sshOpts: wrongHost }).ping()).rejects.toThrow(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });

  it('works with connection sharing as the README suggests (the master ssh leaves running holds nothing open)', async () => {
    const shared = [...sshOptions, '-o', 'ControlMaster=auto', '-o', `ControlPath=${join(work, 'cm-%C')}`, '-o', 'ControlPersist=30'];
    const viaMaster = dockerFor({ host: `ssh://root@127.0.0.1:${sshPort}`, sshOpts: shared });
    try {
      for (let i = 0; i < 3; i++) expect(String(await viaMaster.ping())).toBe('OK');
      expect((await viaMaster.version()).ApiVersion).toBeTruthy();
    } finally {
      execFileSync('ssh', [...shared, '-O', 'exit', '-p', String(sshPort), 'root@127.0.0.1'], { stdio: 'ignore' });
    }
  });
});

describe('a stack on remote engines', () => {
  it('comes up through the TLS port, answers, and the operator commands reach it there', async () => {
    const before = forwarded;
    await stack.up();
    expect(stack.log).toContain(`Applying to tcp://127.0.0.1:${proxyPort}`);
    expect(forwarded).toBeGreaterThan(before);
    expect((await containersOf(stack.prefix)).map((c) => c.State)).toEqual(['running', 'running', 'running', 'running']);
    expect(await greeting(stack.ports.smtp)).toMatch(/^220 mail\.example\.test ESMTP/);
    const operatorBefore = forwarded;
    expect(await queueList(targetOf(stack.configPath))).toEqual([]);
    expect(forwarded).toBeGreaterThan(operatorBefore);
  });

  it('is changed through ssh: the directory container replaced there, the operator commands there too', async () => {
    const idsBefore = (await containersOf(stack.prefix)).map((c) => c.Id).sort();
    stack.edit((doc) => {
      reachVia(sshDocker())(doc);
      (doc.mailboxes as unknown[]).push({ address: 'carol@example.test', passwordHash: (doc.mailboxes as { passwordHash: string }[])[0].passwordHash });
    });
    const tlsBefore = forwarded;
    stack.log.length = 0;
    await stack.up();
    expect(stack.log).toContain(`Applying to ssh://root@127.0.0.1:${sshPort}`);
    expect(stack.log.filter((l) => /^\+ replace /.test(l))).toEqual([expect.stringMatching(/^\+ replace docker_container\.MailServer_Directory_/)]);
    expect(forwarded).toBe(tlsBefore);
    const idsAfter = (await containersOf(stack.prefix)).map((c) => c.Id).sort();
    expect(idsAfter).toHaveLength(4);
    expect(idsAfter.filter((id) => !idsBefore.includes(id))).toHaveLength(1);
    expect(await greeting(stack.ports.smtp)).toMatch(/^220 /);
    expect(await queueList(targetOf(stack.configPath))).toEqual([]);
  });

  it('is purged through the TLS port', async () => {
    stack.edit(reachVia(tlsDocker()));
    const before = forwarded;
    await stack.down(true);
    expect(forwarded).toBeGreaterThan(before);
    expect(await containersOf(stack.prefix)).toEqual([]);
    expect((await docker.listVolumes({ filters: { name: [stack.prefix] } })).Volumes ?? []).toEqual([]);
    expect((await docker.listNetworks({ filters: { name: [stack.prefix] } })).map((n) => n.Name)).toEqual([]);
  });
});
