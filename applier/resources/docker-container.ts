import Docker from 'dockerode';
import { pack } from 'tar-stream';
import { durationNs } from '../attributes';
import { isNotFound, labelMap, removeIfPresent, ResourceHandler } from './handler';

interface Upload {
  file: string;
  content?: string;
  content_base64?: string;
  permissions?: string;
  executable?: boolean;
}

/**
 * docker_container, following the kreuzwerker/docker provider: uploads are
 * copied in before the container starts; with `wait`, creation succeeds only
 * once the health check passes. A container that fails to start is removed
 * (its log is in the error), so nothing is left restarting forever.
 */
export const dockerContainer: ResourceHandler = {
  attributes: {
    name: true,
    image: true,
    hostname: true,
    domainname: true,
    user: true,
    env: true,
    command: true,
    entrypoint: true,
    working_dir: true,
    restart: true,
    max_retry_count: true,
    must_run: true,
    start: true,
    wait: true,
    wait_timeout: true,
    stop_signal: true,
    stop_timeout: true,
    destroy_grace_seconds: true,
    memory: true,
    network_mode: true,
    networks_advanced: { name: true, aliases: true, ipv4_address: true },
    ports: { internal: true, external: true, ip: true, protocol: true },
    volumes: { volume_name: true, container_path: true, host_path: true, read_only: true },
    upload: { file: true, content: true, content_base64: true, permissions: true, executable: true },
    healthcheck: { test: true, interval: true, timeout: true, start_period: true, retries: true },
    log_driver: true,
    log_opts: true,
    labels: { label: true, value: true },
  },
  describe: (c) => String(c.name),

  async create(ctx, address, c) {
    const name = String(c.name);
    // A leftover of an interrupted run would hold the name.
    await removeIfPresent(() => ctx.docker.getContainer(name).remove({ force: true }));
    // Created without its restart policy, which is set once it is ready: a container that
    // fails at start then stops with its own exit code instead of looping.
    const options = createOptions(c);
    const restartPolicy = options.HostConfig!.RestartPolicy!;
    const container = await ctx.docker.createContainer({ ...options, HostConfig: { ...options.HostConfig, RestartPolicy: { Name: 'no' } } });
    try {
      await container.putArchive(uploadArchive((c.upload as Upload[] | undefined) ?? []) as unknown as NodeJS.ReadableStream, { path: '/' });
      if (c.start !== false) {
        await container.start();
        await waitUntilReady(address, container, c);
      }
      await container.update({ RestartPolicy: restartPolicy });
    } catch (err) {
      await container.remove({ force: true }).catch(() => undefined);
      throw err;
    }
    const info = await container.inspect();
    return {
      id: info.Id,
      name,
      network_data: Object.entries(info.NetworkSettings.Networks).map(([network, n]) => ({ network_name: network, ip_address: n.IPAddress, gateway: n.Gateway })),
      destroy_grace_seconds: c.destroy_grace_seconds ?? c.stop_timeout,
    };
  },

  async exists(ctx, entry) {
    try {
      const info = await ctx.docker.getContainer(String(entry.outputs.id)).inspect();
      return info.State.Running;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  },

  async destroy(ctx, entry) {
    const container = ctx.docker.getContainer(String(entry.outputs.id));
    try {
      // Let postfix and dovecot finish what they are doing before the kill.
      await container.stop({ t: Number(entry.outputs.destroy_grace_seconds ?? 30) }).catch((err) => {
        if ((err as { statusCode?: number }).statusCode !== 304) throw err;
      });
      await container.remove({ force: true });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  },
};

function createOptions(c: Record<string, unknown>): Docker.ContainerCreateOptions {
  const ports = (c.ports as { internal: number; external?: number; ip?: string; protocol?: string }[] | undefined) ?? [];
  const networks = (c.networks_advanced as { name: string; aliases?: string[]; ipv4_address?: string }[] | undefined) ?? [];
  const volumes = (c.volumes as { volume_name?: string; host_path?: string; container_path: string; read_only?: boolean }[] | undefined) ?? [];
  const hc = (Array.isArray(c.healthcheck) ? c.healthcheck[0] : c.healthcheck) as
    | { test: string[]; interval?: string; timeout?: string; start_period?: string; retries?: number }
    | undefined;
  const portKey = (p: { internal: number; protocol?: string }) => `${p.internal}/${p.protocol ?? 'tcp'}`;
  const first = networks[0];
  return {
    name: String(c.name),
    Image: String(c.image),
    Hostname: c.hostname as string | undefined,
    Domainname: c.domainname as string | undefined,
    User: c.user as string | undefined,
    Env: c.env as string[] | undefined,
    Cmd: c.command as string[] | undefined,
    Entrypoint: c.entrypoint as string[] | undefined,
    WorkingDir: c.working_dir as string | undefined,
    StopSignal: c.stop_signal as string | undefined,
    StopTimeout: c.stop_timeout as number | undefined,
    Labels: labelMap(c.labels),
    ExposedPorts: Object.fromEntries(ports.map((p) => [portKey(p), {}])),
    Healthcheck: hc && {
      Test: hc.test,
      Interval: hc.interval ? durationNs(hc.interval) : undefined,
      Timeout: hc.timeout ? durationNs(hc.timeout) : undefined,
      StartPeriod: hc.start_period ? durationNs(hc.start_period) : undefined,
      Retries: hc.retries,
    },
    HostConfig: {
      RestartPolicy: { Name: (c.restart as string | undefined) ?? 'no', MaximumRetryCount: c.restart === 'on-failure' ? Number(c.max_retry_count ?? 0) : undefined },
      PortBindings: ports.reduce<Record<string, { HostIp: string; HostPort: string }[]>>((acc, p) => {
        (acc[portKey(p)] ??= []).push({ HostIp: p.ip ?? '0.0.0.0', HostPort: p.external === undefined ? '' : String(p.external) });
        return acc;
      }, {}),
      Mounts: volumes.map((v) =>
        v.host_path
          ? { Type: 'bind' as const, Source: v.host_path, Target: v.container_path, ReadOnly: Boolean(v.read_only) }
          : { Type: 'volume' as const, Source: v.volume_name ?? '', Target: v.container_path, ReadOnly: Boolean(v.read_only) },
      ),
      LogConfig: c.log_driver ? { Type: String(c.log_driver), Config: (c.log_opts as Record<string, string> | undefined) ?? {} } : undefined,
      Memory: c.memory ? Number(c.memory) * 1024 * 1024 : undefined,
      NetworkMode: (c.network_mode as string | undefined) ?? first?.name,
    },
    NetworkingConfig: first
      ? { EndpointsConfig: { [first.name]: { Aliases: first.aliases, IPAMConfig: first.ipv4_address ? { IPv4Address: first.ipv4_address } : undefined } } }
      : undefined,
  };
}

/** The uploads as one tar archive, extracted at / before start (as the provider does, file by file). */
function uploadArchive(uploads: Upload[]) {
  const tar = pack();
  for (const u of uploads) {
    const body = u.content_base64 !== undefined ? Buffer.from(u.content_base64, 'base64') : Buffer.from(u.content ?? '', 'utf8');
    const mode = u.permissions ? parseInt(u.permissions, 8) : u.executable ? 0o744 : 0o644;
    tar.entry({ name: u.file.replace(/^\/+/, ''), mode }, body);
  }
  tar.finalize();
  return tar;
}


/** With `wait`, until healthy; with must_run, until running. A container that exits or stays unhealthy fails the apply. */
async function waitUntilReady(address: string, container: Docker.Container, c: Record<string, unknown>): Promise<void> {
  const deadline = Date.now() + Number(c.wait_timeout ?? 60) * 1000;
  const wantHealthy = Boolean(c.wait);
  for (;;) {
    const info = await container.inspect();
    const health = info.State.Health?.Status;
    if (!info.State.Running) {
      throw new Error(`${address} (${String(c.name)}) exited with code ${info.State.ExitCode}:\n${await tail(container)}`);
    }
    if (health === 'healthy') return;
    // Nothing to wait for: running is enough once it has stayed up a moment (a command
    // that fails at once may not have exited by the first look).
    if ((!wantHealthy || health === undefined) && Date.now() - Date.parse(info.State.StartedAt) >= MIN_UPTIME_MS) return;
    if (health === 'unhealthy' || Date.now() > deadline) {
      const why = health === 'unhealthy' ? 'is unhealthy' : `was not healthy within ${Number(c.wait_timeout ?? 60)} s`;
      const last = info.State.Health?.Log?.slice(-1)[0]?.Output?.trim();
      throw new Error(`${address} (${String(c.name)}) ${why}${last ? ` (health check said: ${last})` : ''}:\n${await tail(container)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

const MIN_UPTIME_MS = 1500;

/** The container's last log lines, indented, for an error message. */
async function tail(container: Docker.Container): Promise<string> {
  const raw = (await container.logs({ stdout: true, stderr: true, tail: 40 })) as unknown as Buffer;
  const lines: string[] = [];
  for (let i = 0; i + 8 <= raw.length; ) {
    const size = raw.readUInt32BE(i + 4);
    lines.push(...raw.subarray(i + 8, i + 8 + size).toString().split('\n').filter(Boolean));
    i += 8 + size;
  }
  return lines.map((l) => `    ${l}`).join('\n') || '    (no output)';
}
