/**
 * The local applier against the real Docker engine: small stacks written as
 * Terraform JSON (as cdktf synthesizes them) are applied, re-applied, changed,
 * damaged behind the applier's back and destroyed.
 *
 * Every Docker object made here is named with a random `applier-test-<hex>`
 * prefix, and afterAll removes exactly those (whatever happened), never
 * anything else. Nothing is pulled: the images are `debian:bookworm-slim`
 * (which must be on the engine) under a tag of our own, and one built from it.
 */
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { applyStack, ApplyResult, destroyStack, loadStack } from '../../applier/apply';
import { readState } from '../../applier/state';
import { execIn } from '../support/docker';

jest.setTimeout(120_000);

const docker = new Docker();
const BASE_IMAGE = 'debian:bookworm-slim';
const PREFIX = `applier-test-${randomBytes(4).toString('hex')}`;
const BASE_TAG = `${PREFIX}-base:1`;
const names = {
  network: `${PREFIX}-net`,
  volume: `${PREFIX}-data`,
  image: `${PREFIX}-app:1`,
  container: `${PREFIX}-app`,
  broken: `${PREFIX}-broken`,
  unhealthy: `${PREFIX}-unhealthy`,
  slow: `${PREFIX}-slow`,
};

let work: string;
let port: number;
let logLines: string[] = [];
const log = (line: string) => logLines.push(line);

/** A stack in its own directory (build contexts are relative to it), with its own state file. */
function stackFiles(name: string) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return { file: join(dir, 'cdk.tf.json'), stateFile: join(dir, 'state', 'applier.tfstate.json') };
}

const main = () => stackFiles('main');

function write(file: string, json: unknown): string {
  writeFileSync(file, JSON.stringify(json, null, 2));
  return file;
}

async function apply(json: unknown, files = main()): Promise<ApplyResult> {
  logLines = [];
  return applyStack(loadStack(write(files.file, json)), { stateFile: files.stateFile, log, docker });
}

async function destroy(json: unknown, options: { purge?: boolean } = {}, files = main()) {
  logLines = [];
  return destroyStack(loadStack(write(files.file, json)), { stateFile: files.stateFile, log, docker, ...options });
}

const actions = (result: ApplyResult) => Object.fromEntries(result.plan.map((p) => [p.resource.address, p.action]));

const CONFIG = 'greeting = hello\nliteral = $${not_a_reference}\n';

/** The stack under test: everything a mail server container needs, in small. */
function mainStack(o: { config?: string; network?: Record<string, unknown>; volumeLabel?: string } = {}) {
  const label = (value: string) => [{ label: 'applier.test', value }];
  return {
    '//': { metadata: { version: '0.21.0', stackName: 'applier-test' } },
    terraform: { required_providers: { docker: { source: 'kreuzwerker/docker', version: '3.6.2' }, tls: { source: 'hashicorp/tls', version: '4.1.0' } } },
    provider: { docker: [{ host: 'unix:///var/run/docker.sock' }], tls: [{}] },
    resource: {
      docker_network: { net: { name: names.network, labels: label(PREFIX), provider: 'docker', ...o.network } },
      docker_volume: { data: { name: names.volume, labels: label(o.volumeLabel ?? PREFIX), lifecycle: { prevent_destroy: true }, provider: 'docker' } },
      docker_image: {
        // No build block: taken from the engine (it is there, so nothing is pulled); kept when destroyed.
        base: { name: BASE_TAG, keep_locally: true },
        app: { name: names.image, build: { context: 'context', build_args: { BASE: '${docker_image.base.name}' }, label: { 'applier.test': PREFIX } } },
      },
      tls_private_key: { key: { algorithm: 'ECDSA', ecdsa_curve: 'P256' } },
      tls_self_signed_cert: {
        cert: {
          private_key_pem: '${tls_private_key.key.private_key_pem}',
          subject: [{ common_name: 'mail.applier.test', organization: 'Applier Test' }],
          dns_names: ['mail.applier.test'],
          validity_period_hours: 24,
          early_renewal_hours: 1,
          allowed_uses: ['digital_signature', 'key_encipherment', 'server_auth'],
        },
      },
      docker_container: {
        app: {
          name: names.container,
          image: '${docker_image.app.image_id}',
          hostname: 'app.applier.test',
          command: ['sleep', 'infinity'],
          env: ['GREETING=hello', `STACK=${PREFIX}`],
          labels: [...label(PREFIX), { label: 'applier.role', value: 'app' }],
          ports: [{ internal: 8080, external: port, ip: '127.0.0.1', protocol: 'tcp' }],
          networks_advanced: [{ name: '${docker_network.net.name}', aliases: ['app'] }],
          volumes: [{ volume_name: '${docker_volume.data.name}', container_path: '/data' }],
          upload: [
            { file: '/etc/app/app.conf', content: o.config ?? CONFIG, permissions: '0644' },
            { file: '/etc/app/cert.pem', content: '${tls_self_signed_cert.cert.cert_pem}', permissions: '0644' },
            { file: '/etc/app/key.pem', content: '${tls_private_key.key.private_key_pem}', permissions: '0600' },
            { file: '/usr/local/bin/app-ready', content: '#!/bin/sh\ntest -s /etc/app/cert.pem\n', executable: true },
          ],
          healthcheck: { test: ['CMD', '/usr/local/bin/app-ready'], interval: '1s', timeout: '2s', retries: 3 },
          restart: 'unless-stopped',
          must_run: true,
          wait: true,
          wait_timeout: 30,
          // sleep ignores SIGTERM: do not wait 30 s for it on every replacement.
          stop_timeout: 1,
          destroy_grace_seconds: 1,
          provider: 'docker',
        },
      },
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as { port: number };
      server.close(() => resolve(p));
    });
  });
}

/** Runs a shell script in a running container. */
const sh = (container: string, script: string) => execIn(container, ['sh', '-c', script]);

async function readIn(container: string, path: string): Promise<{ mode: string; content: string }> {
  const stat = await sh(container, `stat -c %a '${path}'`);
  const cat = await sh(container, `cat '${path}'`);
  if (stat.exitCode !== 0 || cat.exitCode !== 0) throw new Error(`reading ${path} in ${container}: ${stat.stderr}${cat.stderr}`);
  return { mode: stat.stdout.trim(), content: cat.stdout };
}

/** Whether an object is on the engine (404: not). */
async function present(inspect: () => Promise<unknown>): Promise<boolean> {
  try {
    await inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** Containers (running or not) whose name is exactly `name`. */
async function containersNamed(name: string) {
  const all = await docker.listContainers({ all: true, filters: { name: [name] } });
  return all.filter((c) => c.Names.includes(`/${name}`));
}

beforeAll(async () => {
  await docker.getImage(BASE_IMAGE).inspect(); // fails clearly if the base image is missing: it is never pulled
  work = mkdtempSync(join(tmpdir(), `${PREFIX}-`));
  port = await freePort();
  await docker.getImage(BASE_IMAGE).tag({ repo: `${PREFIX}-base`, tag: '1' });
  const context = join(work, 'main', 'context');
  mkdirSync(context, { recursive: true });
  writeFileSync(join(context, 'Dockerfile'), 'ARG BASE\nFROM ${BASE}\nLABEL applier.built=yes\n');
});

afterAll(async () => {
  // Only objects carrying our prefix; errors are collected so one failure does not stop the rest.
  const problems: string[] = [];
  const attempt = async (what: string, f: () => Promise<unknown>) => {
    try {
      await f();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) problems.push(`${what}: ${(err as Error).message}`);
    }
  };
  for (const c of await docker.listContainers({ all: true, filters: { name: [PREFIX] } })) {
    if (c.Names.some((n) => n.startsWith(`/${PREFIX}`))) await attempt(`container ${c.Names[0]}`, () => docker.getContainer(c.Id).remove({ force: true }));
  }
  for (const n of await docker.listNetworks({ filters: { name: [PREFIX] } })) {
    if (n.Name.startsWith(PREFIX)) await attempt(`network ${n.Name}`, () => docker.getNetwork(n.Id).remove());
  }
  for (const v of (await docker.listVolumes({ filters: { name: [PREFIX] } })).Volumes ?? []) {
    if (v.Name.startsWith(PREFIX)) await attempt(`volume ${v.Name}`, () => docker.getVolume(v.Name).remove());
  }
  // By tag, never by id: the base tag shares its id with debian:bookworm-slim, which must stay.
  for (const i of await docker.listImages({ filters: { reference: [`${PREFIX}*`] } })) {
    for (const tag of i.RepoTags ?? []) if (tag.startsWith(PREFIX)) await attempt(`image ${tag}`, () => docker.getImage(tag).remove());
  }
  if (work) rmSync(work, { recursive: true, force: true });
  if (problems.length > 0) throw new Error(`cleaning up ${PREFIX}:\n${problems.join('\n')}`);
});

describe('a stack applied, re-applied, changed and destroyed', () => {
  let first: ApplyResult;
  let containerId: string;

  it('creates every resource, in dependency order', async () => {
    first = await apply(mainStack());
    expect(first.plan.map((p) => `${p.resource.address}:${p.action}`)).toEqual([
      'docker_image.base:create',
      'docker_network.net:create',
      'docker_volume.data:create',
      'tls_private_key.key:create',
      'docker_image.app:create',
      'tls_self_signed_cert.cert:create',
      'docker_container.app:create',
    ]);
    expect(logLines).toContain('Applied: 7 of 7 resources created or replaced.');
    containerId = String(first.outputs['docker_container.app'].id);
    // The state holds generated keys: private to its owner, as terraform.tfstate.
    expect(statSync(main().stateFile).mode & 0o777).toBe(0o600);
    expect(Object.keys(readState(main().stateFile).resources).sort()).toEqual(first.plan.map((p) => p.resource.address).sort());
  });

  it('puts network, volume and the built image on the engine', async () => {
    const net = await docker.getNetwork(names.network).inspect();
    expect(net.Labels).toEqual({ 'applier.test': PREFIX });
    expect(first.outputs['docker_network.net'].id).toBe(net.Id);
    const vol = await docker.getVolume(names.volume).inspect();
    expect(vol.Labels).toEqual({ 'applier.test': PREFIX });
    const image = await docker.getImage(names.image).inspect();
    expect(image.Config.Labels).toMatchObject({ 'applier.test': PREFIX, 'applier.built': 'yes' });
    expect(first.outputs['docker_image.app'].image_id).toBe(image.Id);
    expect(first.outputs['docker_image.base'].image_id).toBe((await docker.getImage(BASE_IMAGE).inspect()).Id);
  });

  it('runs the container healthy, with its labels, environment, port, network, volume and restart policy', async () => {
    const info = await docker.getContainer(names.container).inspect();
    expect(info.Id).toBe(containerId);
    expect(info.State.Running).toBe(true);
    expect(info.State.Health?.Status).toBe('healthy');
    expect(info.Image).toBe(first.outputs['docker_image.app'].image_id);
    expect(info.Config.Hostname).toBe('app.applier.test');
    expect(info.Config.Cmd).toEqual(['sleep', 'infinity']);
    expect(info.Config.Labels).toMatchObject({ 'applier.test': PREFIX, 'applier.role': 'app' });
    expect(info.Config.Env).toEqual(expect.arrayContaining(['GREETING=hello', `STACK=${PREFIX}`]));
    expect(info.HostConfig.PortBindings).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] });
    expect(info.NetworkSettings.Ports['8080/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: String(port) }]);
    expect(info.HostConfig.RestartPolicy?.Name).toBe('unless-stopped');
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([names.network]);
    expect(info.NetworkSettings.Networks[names.network].Aliases).toEqual(expect.arrayContaining(['app']));
    expect(info.Mounts).toEqual([expect.objectContaining({ Type: 'volume', Name: names.volume, Destination: '/data' })]);
  });

  it('uploads the files with their content and modes, ${ escapes resolved', async () => {
    expect(await readIn(names.container, '/etc/app/app.conf')).toEqual({ mode: '644', content: 'greeting = hello\nliteral = ${not_a_reference}\n' });
    expect(await readIn(names.container, '/etc/app/key.pem')).toEqual({ mode: '600', content: first.outputs['tls_private_key.key'].private_key_pem });
    expect(await readIn(names.container, '/usr/local/bin/app-ready')).toEqual({ mode: '744', content: '#!/bin/sh\ntest -s /etc/app/cert.pem\n' });
    expect(await readIn(names.container, '/etc/app/cert.pem')).toEqual({ mode: '644', content: first.outputs['tls_self_signed_cert.cert'].cert_pem });
    expect((await sh(names.container, '/usr/local/bin/app-ready')).exitCode).toBe(0);
  });

  it('uploads a certificate for the subject, signed by the uploaded key', async () => {
    const cert = new X509Certificate((await readIn(names.container, '/etc/app/cert.pem')).content);
    const key = createPrivateKey((await readIn(names.container, '/etc/app/key.pem')).content);
    expect(cert.subject.split('\n')).toEqual(expect.arrayContaining(['CN=mail.applier.test', 'O=Applier Test']));
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.subjectAltName).toBe('DNS:mail.applier.test');
    expect(cert.checkHost('mail.applier.test')).toBe('mail.applier.test');
    expect(cert.checkPrivateKey(key)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(Date.parse(cert.validFrom)).toBeLessThanOrEqual(Date.now());
    const hours = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 3600_000;
    expect(hours).toBeCloseTo(24, 1);
  });

  it('changes nothing on a second apply', async () => {
    const again = await apply(mainStack());
    expect(new Set(Object.values(actions(again)))).toEqual(new Set(['keep']));
    expect(logLines).toEqual(['No changes: 7 resources are up to date.']);
    expect(again.outputs).toEqual(first.outputs);
    expect((await docker.getContainer(names.container).inspect()).Id).toBe(containerId);
  });

  it('replaces only the container when an upload changes, keeping network, volume, images, key and certificate', async () => {
    const changed = await apply(mainStack({ config: 'greeting = bonjour\n' }));
    expect(actions(changed)).toEqual({
      'docker_image.base': 'keep',
      'docker_network.net': 'keep',
      'docker_volume.data': 'keep',
      'tls_private_key.key': 'keep',
      'docker_image.app': 'keep',
      'tls_self_signed_cert.cert': 'keep',
      'docker_container.app': 'replace',
    });
    expect(changed.plan.find((p) => p.action === 'replace')?.reason).toBe('its configuration changed');
    const newId = String(changed.outputs['docker_container.app'].id);
    expect(newId).not.toBe(containerId);
    expect(await present(() => docker.getContainer(containerId).inspect())).toBe(false);
    containerId = newId;
    expect((await docker.getContainer(names.container).inspect()).Id).toBe(newId);
    expect((await readIn(names.container, '/etc/app/app.conf')).content).toBe('greeting = bonjour\n');
    for (const address of ['docker_network.net', 'docker_volume.data', 'docker_image.app', 'tls_private_key.key', 'tls_self_signed_cert.cert']) {
      expect(changed.outputs[address]).toEqual(first.outputs[address]);
    }
    expect((await readIn(names.container, '/etc/app/cert.pem')).content).toBe(first.outputs['tls_self_signed_cert.cert'].cert_pem);
  });

  it('re-creates a container removed behind its back', async () => {
    await docker.getContainer(names.container).remove({ force: true });
    const result = await apply(mainStack({ config: 'greeting = bonjour\n' }));
    expect(Object.entries(actions(result)).filter(([, a]) => a !== 'keep')).toEqual([['docker_container.app', 'replace']]);
    expect(result.plan.find((p) => p.action === 'replace')?.reason).toBe('it is gone or stopped');
    const info = await docker.getContainer(names.container).inspect();
    expect(info.State.Running).toBe(true);
    expect(info.Id).toBe(result.outputs['docker_container.app'].id);
    expect(info.Id).not.toBe(containerId);
    containerId = info.Id;
    expect((await readIn(names.container, '/etc/app/app.conf')).content).toBe('greeting = bonjour\n');
  });

  it('refuses, before touching anything, a plan that would replace a prevent_destroy network', async () => {
    const stateBefore = readFileSync(main().stateFile, 'utf8');
    const networkId = (await docker.getNetwork(names.network).inspect()).Id;
    const protectedAndChanged = mainStack({
      config: 'greeting = bonjour\n',
      network: { labels: [{ label: 'applier.test', value: `${PREFIX}-changed` }], lifecycle: { prevent_destroy: true } },
    });
    await expect(apply(protectedAndChanged)).rejects.toThrow(/docker_network\.net has lifecycle\.prevent_destroy and would be replaced \(its configuration changed\): refusing to apply/);
    expect(logLines).toEqual([]);
    expect(readFileSync(main().stateFile, 'utf8')).toBe(stateBefore);
    expect((await docker.getNetwork(names.network).inspect()).Id).toBe(networkId);
    const info = await docker.getContainer(names.container).inspect();
    expect(info.Id).toBe(containerId);
    expect(info.State.Running).toBe(true);
  });

  it('destroys containers, networks and images but keeps the prevent_destroy volume and its data', async () => {
    const wrote = await sh(names.container, 'echo persisted > /data/note');
    expect(wrote.exitCode).toBe(0);
    const files = main();
    const { removed, kept } = await destroy(mainStack());
    expect(kept).toEqual(['docker_volume.data']);
    expect(removed).toEqual([
      'docker_container.app',
      'tls_self_signed_cert.cert',
      'docker_image.app',
      'tls_private_key.key',
      'docker_network.net',
      'docker_image.base',
    ]);
    expect(await containersNamed(names.container)).toEqual([]);
    expect(await present(() => docker.getNetwork(names.network).inspect())).toBe(false);
    expect(await present(() => docker.getImage(names.image).inspect())).toBe(false);
    expect(await present(() => docker.getVolume(names.volume).inspect())).toBe(true);
    // keep_locally: the image taken from the engine stays there.
    expect(await present(() => docker.getImage(BASE_TAG).inspect())).toBe(true);
    expect(Object.keys(readState(files.stateFile).resources)).toEqual(['docker_volume.data']);
  });

  it('finds the data again when the stack is applied after being destroyed', async () => {
    const result = await apply(mainStack());
    expect(actions(result)['docker_volume.data']).toBe('keep');
    expect(Object.values(actions(result)).filter((a) => a === 'create')).toHaveLength(6);
    expect(String(result.outputs['tls_self_signed_cert.cert'].cert_pem)).not.toBe(first.outputs['tls_self_signed_cert.cert'].cert_pem);
    expect((await readIn(names.container, '/data/note')).content).toBe('persisted\n');
  });

  it('refuses, as Terraform does, to replace a prevent_destroy volume whose configuration changed, and its data stays', async () => {
    await expect(apply(mainStack({ volumeLabel: `${PREFIX}-relabelled` }))).rejects.toThrow(
      /docker_volume\.data has lifecycle\.prevent_destroy and would be replaced \(its configuration changed\): refusing to apply/,
    );
    expect(logLines).not.toContain('- destroy docker_volume.data');
    expect((await readIn(names.container, '/data/note')).content).toBe('persisted\n');
  });

  it('removes the prevent_destroy volume too when purged', async () => {
    const files = main();
    const { removed, kept } = await destroy(mainStack({ volumeLabel: `${PREFIX}-relabelled` }), { purge: true });
    expect(kept).toEqual([]);
    expect(removed).toContain('docker_volume.data');
    expect(await present(() => docker.getVolume(names.volume).inspect())).toBe(false);
    expect(await containersNamed(names.container)).toEqual([]);
    expect(readState(files.stateFile).resources).toEqual({});
  });
});

describe('objects an interrupted run left behind', () => {
  it('takes over a network of exactly the declared name, not one whose name merely contains it', async () => {
    const name = `${PREFIX}-adopt`;
    // Docker's name filter matches substrings and lists in no fixed order: the decoys come back too.
    for (const decoy of ['a', 'b', 'c', 'd']) await docker.createNetwork({ Name: `${name}-${decoy}` });
    const left = await docker.createNetwork({ Name: name });
    const files = stackFiles('adopt');
    const result = await apply({ resource: { docker_network: { adopt: { name } } } }, files);
    expect(actions(result)).toEqual({ 'docker_network.adopt': 'create' });
    expect(result.outputs['docker_network.adopt']).toEqual({ id: left.id, name });
    const { removed } = await destroy({ resource: { docker_network: { adopt: { name } } } }, {}, files);
    expect(removed).toEqual(['docker_network.adopt']);
    expect(await present(() => docker.getNetwork(name).inspect())).toBe(false);
    for (const decoy of ['a', 'b', 'c', 'd']) expect(await present(() => docker.getNetwork(`${name}-${decoy}`).inspect())).toBe(true);
  });
});

describe('containers that do not come up', () => {
  const single = (name: string, container: Record<string, unknown>) => ({
    resource: { docker_container: { [name]: { name: names[name as keyof typeof names], image: BASE_IMAGE, stop_timeout: 1, destroy_grace_seconds: 1, ...container } } },
  });

  it('fails the apply when the command exits, with the address, the exit code and the log, and leaves no container behind', async () => {
    const files = stackFiles('broken');
    const stack = single('broken', {
      command: ['sh', '-c', 'echo broken config >&2; exit 78'],
      restart: 'unless-stopped',
      must_run: true,
      // As the mail containers are declared: the exit is seen while the health check is still starting.
      healthcheck: { test: ['CMD', 'true'], interval: '2s', retries: 3 },
      wait: true,
      wait_timeout: 30,
    });
    const failure = apply(stack, files);
    await expect(failure).rejects.toThrow(/docker_container\.broken/);
    await expect(failure).rejects.toThrow(/exited with code 78/);
    await expect(failure).rejects.toThrow(/broken config/);
    expect(await containersNamed(names.broken)).toEqual([]);
    expect(readState(files.stateFile).resources).toEqual({});
  });

  // Known race (see the report): without `wait`, waitUntilReady returns on the first
  // inspect that finds the container running, which a command that fails at once
  // may not have left yet: about 1 apply in 7 then succeeds. Unskip once fixed.
  it('fails the apply when the command exits, also without a health check to wait for', async () => {
    const files = stackFiles('broken-nowait');
    for (let i = 0; i < 10; i++) {
      const failure = apply(single('broken', { command: ['sh', '-c', 'echo broken config >&2; exit 78'], restart: 'unless-stopped', must_run: true }), files);
      await expect(failure).rejects.toThrow(/docker_container\.broken[\s\S]*exited with code 78[\s\S]*broken config/);
      expect(await containersNamed(names.broken)).toEqual([]);
    }
  });

  it('fails the apply when the health check says unhealthy', async () => {
    const files = stackFiles('unhealthy');
    const failure = apply(
      single('unhealthy', {
        command: ['sleep', 'infinity'],
        healthcheck: { test: ['CMD-SHELL', 'echo not ready yet; exit 1'], interval: '1s', timeout: '1s', retries: 1 },
        wait: true,
        wait_timeout: 5,
      }),
      files,
    );
    await expect(failure).rejects.toThrow(/docker_container\.unhealthy \(applier-test-[0-9a-f]+-unhealthy\) is unhealthy \(health check said: not ready yet\)/);
    expect(await containersNamed(names.unhealthy)).toEqual([]);
    expect(readState(files.stateFile).resources).toEqual({});
  });

  it('fails the apply when the health check has not passed within wait_timeout', async () => {
    const files = stackFiles('slow');
    const started = Date.now();
    const failure = apply(
      single('slow', {
        command: ['sleep', 'infinity'],
        healthcheck: { test: ['CMD', 'false'], interval: '1s', timeout: '1s', retries: 1000 },
        wait: true,
        wait_timeout: 5,
      }),
      files,
    );
    await expect(failure).rejects.toThrow(/docker_container\.slow .*was not healthy within 5 s/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(5000);
    expect(await containersNamed(names.slow)).toEqual([]);
  });
});
