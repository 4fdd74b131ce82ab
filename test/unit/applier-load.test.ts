/**
 * loadStack: what the applier accepts from a cdk.tf.json, in which order it
 * applies it, and everything it refuses (never silently skips). No engine.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStack } from '../../applier/apply';
import { durationNs, UnsupportedError } from '../../applier/attributes';
import { BASE_YAML, synthYaml } from '../support/synth';

let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'applier-load-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a stack to its own file and loads it. */
function load(json: unknown) {
  const file = join(dir, `stack-${n++}`, 'cdk.tf.json');
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, typeof json === 'string' ? json : JSON.stringify(json, null, 2));
  return loadStack(file);
}

const addresses = (json: unknown) => load(json).resources.map((r) => r.address);

const container = (name: string, extra: Record<string, unknown> = {}) => ({ name, image: 'debian:bookworm-slim', ...extra });

describe('loadStack', () => {
  it('reads resources, provider host and the stack directory', () => {
    const stack = load({
      provider: { docker: [{ host: 'unix:///run/other.sock' }], tls: [{}] },
      terraform: { required_providers: { docker: { source: 'kreuzwerker/docker', version: '3.6.2' } } },
      resource: {
        docker_volume: { data: { '//': { metadata: { path: 'x' } }, name: 'data', provider: 'docker', lifecycle: { prevent_destroy: true } } },
        docker_container: { app: container('app', { volumes: [{ volume_name: '${docker_volume.data.name}', container_path: '/data' }] }) },
      },
    });
    expect(stack.dockerHost).toBe('unix:///run/other.sock');
    expect(stack.dir).toBe(join(stack.file, '..'));
    expect(stack.resources).toEqual([
      { address: 'docker_volume.data', type: 'docker_volume', config: { name: 'data' }, dependsOn: [], references: [], preventDestroy: true },
      {
        address: 'docker_container.app',
        type: 'docker_container',
        config: container('app', { volumes: [{ volume_name: '${docker_volume.data.name}', container_path: '/data' }] }),
        dependsOn: ['docker_volume.data'],
        references: ['docker_volume.data'],
        preventDestroy: false,
      },
    ]);
  });

  it('orders by depends_on too, but takes values only from references', () => {
    const stack = load({
      resource: {
        docker_network: { net: { name: 'net' } },
        docker_volume: { data: { name: 'data' } },
        docker_container: { app: { ...container('app', { volumes: [{ volume_name: '${docker_volume.data.name}', container_path: '/data' }] }), depends_on: ['docker_network.net'] } },
      },
    });
    const app = stack.resources.find((r) => r.address === 'docker_container.app')!;
    expect(app.dependsOn).toEqual(['docker_network.net', 'docker_volume.data']);
    expect(app.references).toEqual(['docker_volume.data']);
  });

  it('defaults to the local engine socket and takes an empty stack', () => {
    const stack = load({});
    expect(stack.dockerHost).toBe('unix:///var/run/docker.sock');
    expect(stack.resources).toEqual([]);
  });

  it('orders resources by their references and depends_on, ties broken by address', () => {
    const json = {
      resource: {
        // Declared in the reverse of the order they must be applied in.
        docker_container: {
          zeta: container('zeta'),
          web: container('web', {
            image: '${docker_image.web.image_id}',
            networks_advanced: [{ name: '${docker_network.net.name}' }],
            upload: [{ file: '/etc/cert.pem', content: '${tls_self_signed_cert.cert.cert_pem}' }],
          }),
          db: container('db', { networks_advanced: [{ name: '${docker_network.net.name}' }] }),
          worker: { ...container('worker'), depends_on: ['docker_container.db', 'docker_container.web'] },
        },
        tls_self_signed_cert: {
          cert: { private_key_pem: '${tls_private_key.key.private_key_pem}', validity_period_hours: 24, subject: [{ common_name: 'x' }] },
        },
        tls_private_key: { key: { algorithm: 'ECDSA', ecdsa_curve: 'P256' } },
        docker_image: { web: { name: 'web:1', keep_locally: true } },
        docker_network: { net: { name: 'net' } },
        docker_volume: { alpha: { name: 'alpha' } },
      },
    };
    const order = addresses(json);
    expect(order).toEqual([
      // No dependencies: all first, by address.
      'docker_container.zeta',
      'docker_image.web',
      'docker_network.net',
      'docker_volume.alpha',
      'tls_private_key.key',
      // Ready in the second round.
      'docker_container.db',
      'tls_self_signed_cert.cert',
      'docker_container.web',
      'docker_container.worker',
    ]);
    const before = (a: string, b: string) => expect(order.indexOf(a)).toBeLessThan(order.indexOf(b));
    before('tls_private_key.key', 'tls_self_signed_cert.cert');
    before('tls_self_signed_cert.cert', 'docker_container.web');
    before('docker_image.web', 'docker_container.web');
    before('docker_container.web', 'docker_container.worker');
    before('docker_container.db', 'docker_container.worker');
    // The same order whatever order the JSON lists them in.
    const reversed = { resource: Object.fromEntries(Object.entries(json.resource).reverse().map(([t, byName]) => [t, Object.fromEntries(Object.entries(byName).reverse())])) };
    expect(addresses(reversed)).toEqual(order);
  });

  it('records references and depends_on as dependencies, once each, sorted', () => {
    const stack = load({
      resource: {
        docker_network: { net: { name: 'net' } },
        docker_volume: { v: { name: 'v' } },
        docker_container: {
          app: {
            ...container('${docker_network.net.name}-app', { networks_advanced: [{ name: '${docker_network.net.id}' }] }),
            depends_on: ['docker_volume.v', 'docker_network.net'],
          },
        },
      },
    });
    expect(stack.resources.find((r) => r.address === 'docker_container.app')?.dependsOn).toEqual(['docker_network.net', 'docker_volume.v']);
    // depends_on is ordering, not configuration.
    expect(stack.resources.find((r) => r.address === 'docker_container.app')?.config).not.toHaveProperty('depends_on');
  });

  it('takes the stack the project synthesizes, keys and certificates before the containers that use them', () => {
    const { text, json } = synthYaml(BASE_YAML);
    const stack = load(text);
    const order = stack.resources.map((r) => r.address);
    const all = Object.entries(json.resource).flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`));
    expect([...order].sort()).toEqual([...all].sort());
    for (const r of stack.resources) {
      for (const d of r.dependsOn) expect(order.indexOf(d)).toBeLessThan(order.indexOf(r.address));
    }
    const containers = stack.resources.filter((r) => r.type === 'docker_container');
    expect(containers).toHaveLength(4);
    // postfix and dovecot need the certificate, opendkim the DKIM keys; the directory needs neither.
    for (const c of containers) expect(c.dependsOn.some((d) => /^tls_(self_signed_cert|private_key)\./.test(d))).toBe(!c.address.includes('_Directory_'));
    expect(stack.resources.filter((r) => r.preventDestroy).map((r) => r.type)).toEqual(['docker_volume', 'docker_volume']);
  });

  describe('refuses', () => {
    const refused = (json: unknown, message: RegExp) => {
      expect(() => load(json)).toThrow(UnsupportedError);
      expect(() => load(json)).toThrow(message);
    };

    it('an unknown resource type', () => {
      refused({ resource: { docker_service: { s: { name: 's' } } } }, /the resource type docker_service is not supported/);
      refused({ resource: { null_resource: { x: {} } } }, /null_resource/);
    });

    it('an unknown attribute, naming the address and the attribute', () => {
      refused({ resource: { docker_container: { app: container('app', { privileged: true }) } } }, /docker_container\.app: the attribute privileged is not supported/);
      refused({ resource: { docker_network: { net: { name: 'n', ipam_config: [{ subnet: '10.0.0.0/24' }] } } } }, /docker_network\.net: the attribute ipam_config/);
      refused({ resource: { tls_private_key: { key: { algorithm: 'ED25519', bogus: 1 } } } }, /tls_private_key\.key: the attribute bogus/);
    });

    it('an unknown attribute inside a block, naming its path', () => {
      refused(
        { resource: { docker_container: { app: container('app', { ports: [{ internal: 25, external: 2525 }, { internal: 587, foo: 1 }] }) } } },
        /docker_container\.app: the attribute ports\.foo is not supported/,
      );
      refused({ resource: { docker_container: { app: container('app', { healthcheck: { test: ['CMD', 'true'], start_interval: '1s' } }) } } }, /healthcheck\.start_interval/);
      refused({ resource: { docker_container: { app: container('app', { upload: [{ file: '/x', source: '/etc/passwd' }] }) } } }, /upload\.source/);
      refused({ resource: { docker_image: { img: { name: 'i', build: { context: '.', secrets: [] } } } } }, /docker_image\.img: the attribute build\.secrets/);
      refused({ resource: { tls_self_signed_cert: { c: { private_key_pem: 'x', subject: [{ common_name: 'a', country: 'NL' }] } } } }, /subject\.country/);
    });

    it('a block given as something other than a block', () => {
      refused({ resource: { docker_container: { app: container('app', { ports: ['25:25'] }) } } }, /docker_container\.app: ports must be a block/);
    });

    it('lifecycle settings other than prevent_destroy', () => {
      refused({ resource: { docker_container: { app: { ...container('app'), lifecycle: { ignore_changes: ['upload'] } } } } }, /docker_container\.app: lifecycle\.ignore_changes is not supported/);
      refused({ resource: { docker_volume: { v: { name: 'v', lifecycle: { prevent_destroy: true, create_before_destroy: true } } } } }, /lifecycle\.create_before_destroy/);
    });

    it('count and for_each', () => {
      refused({ resource: { docker_volume: { v: { name: 'v', count: 2 } } } }, /docker_volume\.v: count and for_each are not supported/);
      refused({ resource: { docker_volume: { v: { name: 'v', for_each: { a: 1 } } } } }, /count and for_each/);
    });

    it('an unknown provider, an unknown provider setting and provider aliases', () => {
      refused({ provider: { aws: [{ region: 'eu-west-1' }] } }, /the provider aws is not supported/);
      refused({ provider: { docker: [{ host: 'unix:///var/run/docker.sock', cert_path: '/certs' }] } }, /provider docker: the setting cert_path is not supported/);
      refused({ provider: { docker: [{ registry_auth: [{ address: 'r' }] }] } }, /the setting registry_auth/);
      refused({ provider: { tls: [{ proxy: [{ url: 'http://p' }] }] } }, /provider tls: the setting proxy/);
      refused({ provider: { docker: [{}, { alias: 'remote', host: 'tcp://h:2375' }] } }, /provider aliases \(docker\) are not supported/);
    });

    it('data sources and modules', () => {
      refused({ data: { docker_network: { bridge: { name: 'bridge' } } } }, /data sources are not supported/);
      refused({ module: { m: { source: './m' } } }, /modules are not supported/);
    });

    it('a reference to a resource the stack does not declare', () => {
      refused(
        { resource: { docker_container: { app: container('app', { image: '${docker_image.missing.image_id}' }) } } },
        /docker_container\.app references docker_image\.missing, which the stack does not declare/,
      );
      refused({ resource: { docker_container: { app: { ...container('app'), depends_on: ['docker_network.gone'] } } } }, /references docker_network\.gone/);
      // A variable must be declared in the stack to be referenced.
      refused({ resource: { docker_volume: { v: { name: '${var.name}' } } } }, /references var\.name/);
    });

    it('a reference cycle', () => {
      refused(
        {
          resource: {
            docker_network: { a: { name: '${docker_volume.b.name}' } },
            docker_volume: { b: { name: '${docker_container.c.name}' } },
            docker_container: { c: container('${docker_network.a.name}') },
          },
        },
        /reference each other in a cycle/,
      );
      refused({ resource: { docker_volume: { self: { name: '${docker_volume.self.id}' } } } }, /cycle/);
      refused({ resource: { docker_volume: { a: { name: 'a', depends_on: ['docker_volume.b'] }, b: { name: 'b', depends_on: ['docker_volume.a'] } } } }, /cycle/);
    });

    it('an expression it cannot evaluate', () => {
      expect(() => load({ resource: { docker_volume: { v: { name: '%{ if true }v%{ endif }' } } } })).toThrow(/template directives/);
      expect(() => load({ resource: { docker_volume: { v: { name: '${lower("V")}' } } } })).toThrow(/the function lower\(\) is not supported/);
    });
  });
});

describe('durationNs', () => {
  it.each([
    ['5s', 5e9],
    ['1m30s', 90e9],
    ['500ms', 500e6],
    ['1h', 3600e9],
    ['2h45m', 9900e9],
    ['1.5s', 1.5e9],
    ['250us', 250e3],
    ['10ns', 10],
    ['0s', 0],
    ['.5s', 500e6],
  ])('reads %s', (text, ns) => {
    expect(durationNs(text)).toBe(ns);
  });

  it.each(['', '5', 's', '5 s', ' 5s', '5sec', '1d', '-5s', '5s junk', '1m 30s', 'ms', '1.2.3s', '.s', '..5s'])('refuses %j', (text) => {
    expect(() => durationNs(text)).toThrow(UnsupportedError);
    expect(() => durationNs(text)).toThrow(`"${text}" is not a duration`);
  });
});
