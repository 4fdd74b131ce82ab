/**
 * Remote Docker hosts: docker.host, docker.tls and docker.sshOptions in the
 * config, the docker provider block they synthesize, and how the applier
 * connects from that block (TLS client certificates, the ssh client running
 * `docker system dial-stdio`). No engine: ssh is a stand-in script on PATH.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { dockerFor, loadStack } from '../../applier/apply';
import { UnsupportedError } from '../../applier/attributes';
import { engineConnection } from '../../cli/operator-commands';
import { ConfigError, parseConfig } from '../../config/load';
import { MailstackConfig } from '../../config/model';
import { BASE_YAML, synthYaml } from '../support/synth';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'docker-host-test-'));
  for (const name of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, name), `-----BEGIN ${name}-----\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TLS = { caFile: 'ca.pem', certFile: 'cert.pem', keyFile: 'key.pem' };

/** BASE_YAML with a docker section; relative paths start at the test directory. */
const withDocker = (docker: Record<string, unknown>) => `${BASE_YAML}\n${yaml.dump({ docker }, { lineWidth: -1 })}`;
const parse = (docker: Record<string, unknown>): MailstackConfig => parseConfig(withDocker(docker), { env: {}, baseDir: dir });

function problemsOf(docker: Record<string, unknown>): readonly string[] {
  try {
    parse(docker);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error(`expected a ConfigError for docker: ${JSON.stringify(docker)}`);
}

describe('docker.host', () => {
  it.each([
    ['another scheme', 'ftp://docker.example.test', 'is not a Docker host URL (unix:///path, tcp://host:port, ssh://[user@]host[:port])'],
    ['http://', 'http://docker.example.test:2375', 'is not a Docker host URL mailstack accepts: write tcp://host:port (with docker.tls for TLS)'],
    ['https://', 'https://docker.example.test:2376', 'write tcp://host:port (with docker.tls for TLS)'],
    ['a relative unix path', 'unix://var/run/docker.sock', 'unix:// takes an absolute socket path'],
    ['tcp:// without a port', 'tcp://docker.example.test', 'tcp:// needs a port: tcp://host:2376'],
    ['tcp:// without a host', 'tcp://:2376', 'it names no host'],
    ['tcp:// with a user', 'tcp://deploy@127.0.0.1:2375', 'tcp:// takes no user name'],
    ['a port out of range', 'tcp://127.0.0.1:70000', 'port "70000" is not a TCP port'],
    ['a port that is not a number', 'ssh://deploy@docker.example.test:ssh', 'port "ssh" is not a TCP port'],
    ['a path', 'tcp://127.0.0.1:2375/v1.41', 'a tcp:// URL takes no path'],
    ['an ssh path', 'ssh://deploy@docker.example.test/run/docker.sock', 'a ssh:// URL takes no path'],
    ['a host with an underscore', 'ssh://deploy@docker_host.example.test', '"docker_host.example.test" is not a host name or IP address'],
    ['an IPv6 address without brackets', 'tcp://::1:2375', 'IPv6 addresses go in brackets: tcp://[::1]:2375'],
    ['a user ssh would take for an option', 'ssh://-oProxyCommand=x@docker.example.test', '"-oProxyCommand=x" is not a login name'],
  ])('rejects %s (%s) saying why', (_, host, reason) => {
    const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(problemsOf({ host })).toEqual([expect.stringMatching(new RegExp(`^docker\\.host: ${escaped(JSON.stringify(host))} (?=is not a Docker host URL).*${escaped(reason)}`))]);
  });

  it.each(['ssh://deploy@docker.example.test', 'ssh://deploy@docker.example.test:2222', 'ssh://docker.example.test', 'ssh://root@192.0.2.7', 'tcp://127.0.0.1:2375', 'tcp://localhost:2375', 'tcp://[::1]:2375'])(
    'accepts %s without docker.tls',
    (host) => {
      const docker = parse({ host }).docker;
      expect(docker.host).toBe(host);
      expect(docker.tls).toBeUndefined();
    },
  );

  it('refuses tcp:// on 2376 without docker.tls, even on loopback: that port asks for a client certificate', () => {
    expect(problemsOf({ host: 'tcp://127.0.0.1:2376' })).toEqual([
      'docker.host: "tcp://127.0.0.1:2376" is Docker\'s TLS port (2376), which asks for a client certificate: give docker.tls (caFile, certFile, keyFile)',
    ]);
  });

  it.each(['tcp://docker.example.test:2375', 'tcp://10.0.0.5:4243', 'tcp://[2001:db8::1]:2375'])(
    'refuses plain tcp:// to another host (%s): an unauthenticated engine port is root on that host',
    (host) => {
      expect(problemsOf({ host })).toEqual([
        `docker.host: ${JSON.stringify(host)} is an engine port without TLS: anyone who reaches it is root on that host. Give docker.tls (caFile, certFile, keyFile) for a port that requires client certificates, or use ssh://`,
      ]);
    },
  );

  it('reports only the URL problem for a host it cannot parse', () => {
    expect(problemsOf({ host: 'tcp://docker.example.test' })).toHaveLength(1);
  });
});

describe('docker.tls', () => {
  it('resolves the three files against the config file directory', () => {
    expect(parse({ host: 'tcp://docker.example.test:2376', tls: TLS }).docker).toEqual({
      host: 'tcp://docker.example.test:2376',
      bindAddress: '0.0.0.0',
      namePrefix: 'mailstack',
      hostNetwork: false,
      tls: { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') },
    });
  });

  it('takes absolute paths as they are, on any port', () => {
    const tls = { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') };
    expect(parse({ host: 'tcp://127.0.0.1:40123', tls }).docker.tls).toEqual(tls);
  });

  it.each(['caFile', 'certFile', 'keyFile'])('needs all three files: without %s it is refused', (key) => {
    const tls: Record<string, string> = { ...TLS };
    delete tls[key];
    expect(problemsOf({ host: 'tcp://docker.example.test:2376', tls })).toContain(`docker.tls.${key}: is required`);
  });

  it('refuses a file that does not exist, naming where it looked', () => {
    expect(problemsOf({ host: 'tcp://docker.example.test:2376', tls: { ...TLS, keyFile: 'missing-key.pem' } })).toEqual([
      `docker.tls.keyFile: "missing-key.pem" does not exist (looked for ${join(dir, 'missing-key.pem')})`,
    ]);
  });

  it('refuses a path that could break out of Terraform\'s file("...")', () => {
    expect(problemsOf({ host: 'tcp://docker.example.test:2376', tls: { ...TLS, caFile: 'ca${var.x}.pem' } })).toContainEqual(
      expect.stringMatching(/^docker\.tls\.caFile: "ca\$\{var\.x\}\.pem" is not a usable file path/),
    );
  });

  it.each([
    ['ssh://deploy@docker.example.test', 'ssh://'],
    ['unix:///var/run/docker.sock', 'unix://'],
  ])('is refused with %s', (host, scheme) => {
    expect(problemsOf({ host, tls: TLS })).toEqual([`docker.tls: only applies to a tcp:// docker.host, not ${scheme} (ssh authenticates ssh://, file permissions unix://)`]);
  });

  it('refuses unknown keys', () => {
    expect(problemsOf({ host: 'tcp://docker.example.test:2376', tls: { ...TLS, certPath: '/etc/docker' } })).toContain('docker.tls.certPath: is not a known key');
  });
});

describe('docker.sshOptions', () => {
  it('is kept as given for ssh://', () => {
    const sshOptions = ['-i', '/home/deploy/.ssh/id_ed25519', '-o', 'StrictHostKeyChecking=yes'];
    expect(parse({ host: 'ssh://deploy@docker.example.test', sshOptions }).docker.sshOptions).toEqual(sshOptions);
  });

  it('is absent unless given', () => {
    expect(parse({ host: 'ssh://deploy@docker.example.test' }).docker).not.toHaveProperty('sshOptions');
  });

  it.each(['unix:///var/run/docker.sock', 'tcp://127.0.0.1:2375'])('is refused with %s', (host) => {
    expect(problemsOf({ host, sshOptions: ['-v'] })).toEqual([`docker.sshOptions: only applies to an ssh:// docker.host, not ${host.split(':')[0]}://`]);
  });

  it.each([
    ['empty', ''],
    ['a newline', '-o\nProxyCommand=x'],
    ['an interpolation', '-i ${path.module}/key'],
  ])('refuses an option that is %s', (_, option) => {
    expect(problemsOf({ host: 'ssh://deploy@docker.example.test', sshOptions: ['-v', option] })).toEqual([
      `docker.sshOptions[1]: ${JSON.stringify(option)} is not a usable ssh option (not empty; no control characters or "\${")`,
    ]);
  });

  it('must be a list of strings', () => {
    expect(problemsOf({ host: 'ssh://deploy@docker.example.test', sshOptions: '-v' })).toContain('docker.sshOptions: must be array');
    expect(problemsOf({ host: 'ssh://deploy@docker.example.test', sshOptions: [22] })).toContain('docker.sshOptions[0]: must be string');
  });
});

describe('the synthesized docker provider', () => {
  const providerOf = (docker: Record<string, unknown>) => (synthYaml(withDocker(docker), { env: {}, baseDir: dir }).json.provider as { docker: Record<string, unknown>[] }).docker;

  it('is the host alone for a local engine', () => {
    expect(providerOf({})).toEqual([{ host: 'unix:///var/run/docker.sock' }]);
  });

  it('reads the TLS files with file() at plan time, the key kept out of plan output', () => {
    expect(providerOf({ host: 'tcp://docker.example.test:2376', tls: TLS })).toEqual([
      {
        host: 'tcp://docker.example.test:2376',
        ca_material: `\${file("${join(dir, 'ca.pem')}")}`,
        cert_material: `\${file("${join(dir, 'cert.pem')}")}`,
        key_material: `\${sensitive(file("${join(dir, 'key.pem')}"))}`,
      },
    ]);
  });

  it('passes sshOptions as ssh_opts', () => {
    expect(providerOf({ host: 'ssh://deploy@docker.example.test:2222', sshOptions: ['-i', '/keys/deploy'] })).toEqual([
      { host: 'ssh://deploy@docker.example.test:2222', ssh_opts: ['-i', '/keys/deploy'] },
    ]);
  });
});

describe('the applier\'s connection', () => {
  let n = 0;
  const load = (provider: Record<string, unknown>) => {
    const file = join(dir, `stack-${n++}`, 'cdk.tf.json');
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, JSON.stringify({ provider: { docker: [provider] } }));
    return loadStack(file);
  };

  it('reads the PEM contents from the synthesized provider block, as Terraform does at plan time', () => {
    const { json } = synthYaml(withDocker({ host: 'tcp://127.0.0.1:40123', tls: TLS }), { env: {}, baseDir: dir });
    const stack = load((json.provider as { docker: Record<string, unknown>[] }).docker[0]);
    expect(stack.dockerHost).toBe('tcp://127.0.0.1:40123');
    expect(stack.docker).toEqual({ host: 'tcp://127.0.0.1:40123', caMaterial: '-----BEGIN ca.pem-----\n', certMaterial: '-----BEGIN cert.pem-----\n', keyMaterial: '-----BEGIN key.pem-----\n' });
  });

  it('reaches the same connection as the operator commands do from the config', () => {
    const config = parse({ host: 'tcp://127.0.0.1:40123', tls: TLS });
    const { json } = synthYaml(withDocker({ host: 'tcp://127.0.0.1:40123', tls: TLS }), { env: {}, baseDir: dir });
    expect(engineConnection(config.docker)).toEqual(load((json.provider as { docker: Record<string, unknown>[] }).docker[0]).docker);
    const ssh = parse({ host: 'ssh://deploy@docker.example.test', sshOptions: ['-v'] });
    expect(engineConnection(ssh.docker)).toEqual({ host: 'ssh://deploy@docker.example.test', sshOpts: ['-v'] });
  });

  it('fails loading when a PEM file is gone', () => {
    expect(() => load({ host: 'tcp://127.0.0.1:40123', ca_material: `\${file("${join(dir, 'gone.pem')}")}` })).toThrow(/provider docker: file\(".*gone\.pem"\): no file exists at that path/);
  });

  it('refuses provider settings it does not implement', () => {
    expect(() => load({ host: 'tcp://127.0.0.1:2376', cert_path: '/etc/docker' })).toThrow(UnsupportedError);
    expect(() => load({ host: 'tcp://127.0.0.1:2376', cert_path: '/etc/docker' })).toThrow(/the setting cert_path is not supported/);
    expect(() => load({ host: 'tcp://127.0.0.1:2376', context: 'remote' })).toThrow(/the setting context is not supported/);
  });

  it('speaks HTTPS with the client certificate when the materials are given, plain HTTP without', () => {
    const tls = dockerFor({ host: 'tcp://127.0.0.1:40123', caMaterial: 'CA', certMaterial: 'CERT', keyMaterial: 'KEY' }).modem as unknown as Record<string, unknown>;
    expect(tls).toMatchObject({ host: '127.0.0.1', port: 40123, protocol: 'https', ca: 'CA', cert: 'CERT', key: 'KEY' });
    const plain = dockerFor('tcp://127.0.0.1:2375').modem as unknown as Record<string, unknown>;
    expect(plain).toMatchObject({ host: '127.0.0.1', port: 2375, protocol: 'http', ca: undefined });
  });

  it('is not redirected by DOCKER_HOST or DOCKER_CERT_PATH in the environment', () => {
    const saved = { ...process.env };
    process.env.DOCKER_HOST = 'tcp://192.0.2.1:2376';
    try {
      const modem = dockerFor('unix:///run/other.sock').modem as unknown as Record<string, unknown>;
      expect(modem).toMatchObject({ socketPath: '/run/other.sock', host: undefined });
    } finally {
      process.env = saved;
    }
  });

  it.each([
    [{ host: 'tcp://127.0.0.1:2376', caMaterial: 'CA' }, 'ca_material, cert_material and key_material must be given together'],
    [{ host: 'unix:///var/run/docker.sock', caMaterial: 'CA', certMaterial: 'C', keyMaterial: 'K' }, 'TLS materials only apply to tcp:// hosts'],
    [{ host: 'tcp://127.0.0.1:2375', sshOpts: ['-v'] }, 'ssh_opts only apply to ssh:// hosts'],
    [{ host: 'npipe:////./pipe/docker_engine' }, 'the local applier talks to unix://, tcp:// and ssh:// engines'],
  ])('refuses %j', (connection, why) => {
    expect(() => dockerFor(connection)).toThrow(why);
  });

  describe('over ssh', () => {
    let bin: string;
    let argsFile: string;
    const savedPath = process.env.PATH;
    /** A stand-in for the ssh client: records its arguments, then runs `body` as the remote end. */
    const fakeSsh = (body: string) => {
      writeFileSync(join(bin, 'ssh'), `#!/bin/sh\nprintf '%s\\n' "$@" > "${argsFile}"\n${body}\n`);
      chmodSync(join(bin, 'ssh'), 0o755);
    };
    beforeAll(() => {
      bin = mkdtempSync(join(dir, 'bin-'));
      argsFile = join(bin, 'args');
      process.env.PATH = `${bin}:${savedPath}`;
    });
    afterAll(() => {
      process.env.PATH = savedPath;
    });

    it('runs `docker system dial-stdio` through the ssh client, ssh_opts first so they win, and speaks HTTP over it', async () => {
      // The "remote engine": reads the request head, answers /_ping as dockerd does.
      fakeSsh(`while IFS= read -r line; do [ "$line" = "$(printf '\\r')" ] && break; done
printf 'HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nOK'`);
      const docker = dockerFor({ host: 'ssh://deploy@docker.example.test:2222', sshOpts: ['-i', '/keys/deploy', '-o', 'BatchMode=no'] });
      expect(docker.modem).toMatchObject({ protocol: 'http' });
      expect((docker.modem as unknown as { agent: unknown }).agent).toBeInstanceOf(Agent);
      expect(String(await docker.ping())).toBe('OK');
      expect(readFileSync(argsFile, 'utf8').trim().split('\n')).toEqual([
        '-i', '/keys/deploy', '-o', 'BatchMode=no',
        '-o', 'ConnectTimeout=30', '-o', 'BatchMode=yes', '-T',
        '-l', 'deploy', '-p', '2222',
        '--', 'docker.example.test', 'docker', 'system', 'dial-stdio',
      ]);
    });

    it('leaves user and port to ssh when the URL has none', async () => {
      fakeSsh('exit 0');
      await expect(dockerFor('ssh://docker.example.test').ping()).rejects.toThrow();
      expect(readFileSync(argsFile, 'utf8').trim().split('\n')).toEqual(['-o', 'ConnectTimeout=30', '-o', 'BatchMode=yes', '-T', '--', 'docker.example.test', 'docker', 'system', 'dial-stdio']);
    });

    it('fails with ssh\'s own words when ssh fails', async () => {
      fakeSsh(`echo 'deploy@docker.example.test: Permission denied (publickey).' >&2; exit 255`);
      await expect(dockerFor('ssh://deploy@docker.example.test').ping()).rejects.toThrow(
        'ssh://deploy@docker.example.test: ssh exited with 255: deploy@docker.example.test: Permission denied (publickey).',
      );
    });
  });
});
