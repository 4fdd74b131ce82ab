/**
 * How the applier and the operator commands reach a Docker engine, from the
 * docker provider's own settings: unix:// sockets, tcp:// (with TLS client
 * certificates when ca/cert/key_material are given) and ssh://. ssh:// works
 * as the provider and the docker CLI do it: the system `ssh` client runs
 * `docker system dial-stdio` on the remote host and HTTP goes over its
 * stdin/stdout, so ~/.ssh/config, known_hosts, the agent and ssh_opts all
 * apply as they would for `cdktf deploy`.
 */
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { Agent } from 'node:http';
import { Duplex } from 'node:stream';
import Docker from 'dockerode';
import { UnsupportedError } from './attributes';

/** The docker provider's settings, with file() already read. */
export interface DockerConnection {
  /** The provider's `host`. */
  readonly host: string;
  /** PEM (ca_material, cert_material, key_material): all three or none, tcp:// only. */
  readonly caMaterial?: string;
  readonly certMaterial?: string;
  readonly keyMaterial?: string;
  /** Extra ssh client flags (ssh_opts), ssh:// only. */
  readonly sshOpts?: readonly string[];
}

/** The provider block's keys, as cdk.tf.json spells them. */
export const DOCKER_PROVIDER_SETTINGS = ['host', 'ca_material', 'cert_material', 'key_material', 'ssh_opts'] as const;

/** A resolved `provider.docker` block as a connection; the provider's default host is the local socket. */
export function connectionOf(settings: Readonly<Record<string, unknown>>): DockerConnection {
  const text = (key: string) => {
    const value = settings[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new UnsupportedError(`provider docker: ${key} must be a string`);
    return value;
  };
  const sshOpts = settings.ssh_opts;
  if (sshOpts !== undefined && !(Array.isArray(sshOpts) && sshOpts.every((o) => typeof o === 'string'))) {
    throw new UnsupportedError('provider docker: ssh_opts must be a list of strings');
  }
  return {
    host: text('host') ?? 'unix:///var/run/docker.sock',
    ...(text('ca_material') !== undefined ? { caMaterial: text('ca_material') } : {}),
    ...(text('cert_material') !== undefined ? { certMaterial: text('cert_material') } : {}),
    ...(text('key_material') !== undefined ? { keyMaterial: text('key_material') } : {}),
    ...(sshOpts ? { sshOpts: sshOpts as string[] } : {}),
  };
}

/** A dockerode client for the engine, connected as the docker provider would connect. */
export function dockerFor(connection: DockerConnection | string): Docker {
  const c: DockerConnection = typeof connection === 'string' ? { host: connection } : connection;
  const refuse = (why: string) => new UnsupportedError(`docker host ${c.host}: ${why}`);
  const materials = [c.caMaterial, c.certMaterial, c.keyMaterial].filter((m) => m !== undefined);
  // As the provider: TLS materials are all three or none.
  if (materials.length !== 0 && materials.length !== 3) throw refuse('ca_material, cert_material and key_material must be given together');
  const tls = materials.length === 3;
  const scheme = /^([a-z]+):\/\//.exec(c.host)?.[1];
  if (tls && scheme !== 'tcp' && scheme !== 'https') throw refuse('TLS materials only apply to tcp:// hosts');
  if (c.sshOpts && c.sshOpts.length > 0 && scheme !== 'ssh') throw refuse('ssh_opts only apply to ssh:// hosts');
  // Every connection field named: docker-modem fills the missing ones from DOCKER_HOST, DOCKER_CERT_PATH and
  // DOCKER_TLS_VERIFY, which could point this client at another engine than the stack declares.
  const none = { socketPath: undefined, host: undefined, port: undefined, protocol: undefined, ca: undefined, cert: undefined, key: undefined };
  if (scheme === 'unix') return new Docker({ ...none, socketPath: c.host.slice('unix://'.length) });
  let url: URL;
  try {
    url = new URL(c.host);
  } catch {
    throw refuse('not a URL');
  }
  if ((scheme === 'tcp' || scheme === 'http' || scheme === 'https' || scheme === 'ssh') && url.pathname && url.pathname !== '/') {
    throw refuse('a path after the host is not supported');
  }
  if (scheme === 'tcp' || scheme === 'http' || scheme === 'https') {
    const https = tls || scheme === 'https';
    const port = Number(url.port || (https ? 2376 : 2375));
    return new Docker({ ...none, host: url.hostname, port, protocol: https ? 'https' : 'http', ...(tls ? { ca: c.caMaterial, cert: c.certMaterial, key: c.keyMaterial } : {}) });
  }
  if (scheme === 'ssh') {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    // As docker's connhelper: ssh [ssh_opts] -T [-l user] [-p port] -- host docker system dial-stdio. ssh takes the
    // first value given for an option, so ssh_opts come first and override BatchMode (no prompts mid-apply).
    const args = [
      ...(c.sshOpts ?? []),
      '-o', 'ConnectTimeout=30',
      '-o', 'BatchMode=yes',
      '-T',
      ...(url.username ? ['-l', decodeURIComponent(url.username)] : []),
      ...(url.port ? ['-p', url.port] : []),
      '--', host, 'docker', 'system', 'dial-stdio',
    ];
    // The URL's host only fills the Host header; the agent decides where bytes go.
    return new Docker({ ...none, host: 'docker', protocol: 'http', agent: new SshDialAgent(args, c.host) } as Docker.DockerOptions);
  }
  throw refuse('the local applier talks to unix://, tcp:// and ssh:// engines; deploy to others with cdktf deploy');
}

/** An http.Agent whose every connection is one `ssh … docker system dial-stdio`. */
class SshDialAgent extends Agent {
  constructor(
    private readonly args: readonly string[],
    private readonly label: string,
  ) {
    super({ keepAlive: false });
  }

  createConnection(): Duplex {
    // PATH as this module's process.env has it (explicit: a test sandbox's env is not child_process's default).
    return new SshStream(spawn('ssh', this.args, { stdio: ['pipe', 'pipe', 'pipe'], env: process.env }), this.label);
  }
}

/**
 * The ssh client's stdin/stdout as one socket. Its end is only signalled once
 * ssh has exited, so a failed login, an unknown host key or a missing remote
 * docker fails the request with ssh's own words instead of "socket hang up".
 * Exit plus end of stdout, not 'close': that also waits for stderr, which a
 * helper ssh leaves running (ProxyCommand, a ControlPersist master) may hold.
 */
class SshStream extends Duplex {
  private stderr = '';
  private stdoutEnded = false;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly label: string,
  ) {
    super();
    child.stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) child.stdout.pause();
    });
    child.stdout.on('end', () => {
      this.stdoutEnded = true;
      this.settle();
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-4000);
    });
    // Writes after ssh is gone fail with EPIPE; settle() says why it went.
    child.stdin.on('error', () => undefined);
    child.on('error', (err) => this.destroy(new Error(`${label}: cannot run ssh: ${err.message}`)));
    child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      this.settle();
    });
  }

  private settle(): void {
    const exit = this.exit;
    if (!exit || this.destroyed) return;
    if (exit.code === 0) {
      if (this.stdoutEnded) this.push(null);
      return;
    }
    // ssh's last words may still be in the pipe: wait for them, briefly.
    const fail = () => {
      this.destroy(new Error(`${this.label}: ssh exited with ${exit.code ?? exit.signal}: ${this.stderr.trim() || 'no message'}`));
    };
    if (this.child.stderr.readableEnded) return fail();
    const timer = setTimeout(fail, 1000);
    this.child.stderr.once('end', () => {
      clearTimeout(timer);
      fail();
    });
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.child.stdin.write(chunk)) return done();
    // Waits for room, or for ssh to be gone (then settle() fails the stream).
    const go = () => {
      this.child.stdin.off('drain', go);
      this.child.off('exit', go);
      done();
    };
    this.child.stdin.on('drain', go);
    this.child.on('exit', go);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.child.stdin.end();
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    // The HTTP client destroys a socket it is done with; the ssh behind it goes too.
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
    done(err);
  }
}
