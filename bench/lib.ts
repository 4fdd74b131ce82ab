/**
 * What the benchmarks share: options, the machine's description, results on
 * disk, containers run to completion, the stack under test and its mail log.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import * as yaml from 'js-yaml';
import { down, up } from '../cli/stack-commands';
import { MAIL_SERVICES, MailService } from '../config/model';
import { hashContext } from '../constructs/mail-image';
import schema from '../mailstack.schema.json';
import { execIn as exec } from '../test/support/docker';
import { freePort } from '../test/support/stack';

// The tests' helpers: running a command in a container, finding a free port.
export { exec, freePort };

export const ROOT = join(__dirname, '..');
export const docker = new Docker();
export const BASE_IMAGE = process.env.MAILSTACK_BASE_IMAGE ?? 'debian:bookworm-slim';

export interface BenchOptions {
  /** Seconds-long version, for CI: same code path, tiny counts. */
  readonly tiny: boolean;
  /** Where results/<name>.json go. */
  readonly outDir: string;
  readonly log: (line: string) => void;
}

/** A table as the report prints it. */
export interface Table {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
}

export interface BenchResult {
  readonly name: string;
  readonly tiny: boolean;
  readonly date: string;
  readonly machine: Machine;
  /** 1-minute load average when the benchmark started and ended (others share this machine). */
  readonly load: { readonly start: number; readonly end: number };
  readonly seconds: number;
  /** How it was measured, one paragraph a string. */
  readonly method: readonly string[];
  /** The command lines run, as a person would type them. */
  readonly commands: readonly string[];
  readonly tables: readonly Table[];
  /** The numbers worth quoting, flat, all > 0 when measured. */
  readonly figures: Readonly<Record<string, number>>;
  /** What the numbers say, one sentence a string. */
  readonly findings: readonly string[];
}

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly dockerVersion: string;
  readonly storageDriver: string;
  readonly cgroupVersion: string;
  /** The device and filesystem Docker's volumes live on. */
  readonly disk: string;
  readonly node: string;
}

export async function machine(): Promise<Machine> {
  const info = (await docker.info()) as Record<string, string>;
  const version = await docker.version();
  const root = info.DockerRootDir ?? '/var/lib/docker';
  let disk = 'unknown';
  try {
    const df = execFileSync('df', ['-hT', root], { encoding: 'utf8' }).trim().split('\n')[1].split(/\s+/);
    const dev = df[0].replace('/dev/', '');
    const lsblk = execFileSync('lsblk', ['-dno', 'SIZE,ROTA,MODEL', `/dev/${dev}`], { encoding: 'utf8' }).trim().split(/\s+/);
    const rota = `lsblk ROTA=${lsblk[1]}`;
    disk = `${df[0]} (${df[1]}, ${lsblk[0]}, ${rota}${lsblk[2] ? `, ${lsblk.slice(2).join(' ')}` : ', virtio'})`;
  } catch {
    // df/lsblk missing: leave it unknown
  }
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: String(info.KernelVersion),
    dockerVersion: version.Version,
    storageDriver: String(info.Driver),
    cgroupVersion: String(info.CgroupVersion ?? '1'),
    disk,
    node: process.version,
  };
}

export const load1 = () => Math.round(loadavg()[0] * 100) / 100;

/** Runs one benchmark body and writes its result JSON. */
export async function record(
  name: string,
  options: BenchOptions,
  body: () => Promise<Omit<BenchResult, 'name' | 'tiny' | 'date' | 'machine' | 'load' | 'seconds'>>,
): Promise<BenchResult> {
  const started = Date.now();
  const loadStart = load1();
  options.log(`[${name}] start (load ${loadStart})`);
  const out = await body();
  const result: BenchResult = {
    name,
    tiny: options.tiny,
    date: new Date(started).toISOString(),
    machine: await machine(),
    load: { start: loadStart, end: load1() },
    seconds: Math.round((Date.now() - started) / 100) / 10,
    ...out,
  };
  mkdirSync(options.outDir, { recursive: true });
  writeFileSync(join(options.outDir, `${name}.json`), JSON.stringify(result, null, 2) + '\n');
  options.log(`[${name}] done in ${result.seconds} s (load ${result.load.end})`);
  for (const t of result.tables) options.log(formatTable(t));
  return result;
}

export function readResults(dir: string): BenchResult[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as BenchResult);
}

/** A GitHub-flavoured Markdown table. */
export function formatTable(t: Table): string {
  const cell = (v: string | number) => (typeof v === 'number' ? fmt(v) : v);
  return [`**${t.title}**`, '', `| ${t.columns.join(' | ')} |`, `| ${t.columns.map(() => '---').join(' | ')} |`, ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n') + '\n';
}

/** Three significant digits, thousands grouped. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const nowSeconds = () => Date.now() / 1000;

// ---------------------------------------------------------------- containers

export interface RunOptions {
  readonly image: string;
  readonly cmd: string[];
  readonly entrypoint?: string[];
  readonly name?: string;
  readonly network?: string;
  /** volume or host path → container path */
  readonly mounts?: Readonly<Record<string, string>>;
  readonly capAdd?: string[];
  readonly securityOpt?: string[];
  readonly pidMode?: string;
  readonly hostname?: string;
}

export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

function hostConfig(o: RunOptions): Docker.HostConfig {
  return {
    NetworkMode: o.network,
    Binds: Object.entries(o.mounts ?? {}).map(([from, to]) => `${from}:${to}`),
    CapAdd: o.capAdd,
    SecurityOpt: o.securityOpt,
    PidMode: o.pidMode,
  };
}

/** Runs a command in a throwaway container to its end. */
export async function run(o: RunOptions): Promise<RunResult> {
  const c = await docker.createContainer({ name: o.name, Image: o.image, Cmd: o.cmd, Entrypoint: o.entrypoint, Hostname: o.hostname, HostConfig: hostConfig(o) });
  try {
    await c.start();
    const { StatusCode } = await c.wait();
    return { exitCode: StatusCode, ...(await logsOf(c)) };
  } finally {
    await c.remove({ force: true }).catch(() => undefined);
  }
}

/** Starts a container and returns a stop() that interrupts it and gives its output. */
export async function start(o: RunOptions): Promise<{ id: string; stop: () => Promise<RunResult> }> {
  const c = await docker.createContainer({ name: o.name, Image: o.image, Cmd: o.cmd, Entrypoint: o.entrypoint, Hostname: o.hostname, HostConfig: hostConfig(o) });
  await c.start();
  return {
    id: c.id,
    stop: async () => {
      try {
        await c.kill({ signal: 'SIGINT' }).catch(() => undefined);
        const { StatusCode } = await c.wait();
        return { exitCode: StatusCode, ...(await logsOf(c)) };
      } finally {
        await c.remove({ force: true }).catch(() => undefined);
      }
    },
  };
}

async function logsOf(c: Docker.Container): Promise<{ stdout: string; stderr: string }> {
  const buf = (await c.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  const { stdout, stderr } = demux(buf);
  return { stdout: stdout.map((l) => l.text).join(''), stderr: stderr.map((l) => l.text).join('') };
}

/** Docker's multiplexed stream: 8-byte frame headers, 1 stdout, 2 stderr. */
function demux(buffer: Buffer): { stdout: { text: string }[]; stderr: { text: string }[] } {
  const stdout: { text: string }[] = [];
  const stderr: { text: string }[] = [];
  let i = 0;
  while (i + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(i + 4);
    (buffer[i] === 2 ? stderr : stdout).push({ text: buffer.subarray(i + 8, i + 8 + size).toString() });
    i += 8 + size;
  }
  return { stdout, stderr };
}

/** A container's log lines with Docker's receive time (epoch seconds, µs precision). */
export async function timedLogs(container: string, sinceSeconds: number): Promise<{ t: number; line: string }[]> {
  const buf = (await docker.getContainer(container).logs({ stdout: true, stderr: true, timestamps: true, since: Math.floor(sinceSeconds) - 1, follow: false })) as unknown as Buffer;
  const { stdout, stderr } = demux(buf);
  const text = [...stdout, ...stderr].map((l) => l.text).join('');
  return text
    .split('\n')
    .map((raw) => {
      const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z (.*)$/.exec(raw);
      if (!m) return undefined;
      return { t: Date.parse(`${m[1]}Z`) / 1000 + Number(`0${m[2] ?? ''}`), line: m[3] };
    })
    .filter((l): l is { t: number; line: string } => l !== undefined && l.t >= sinceSeconds);
}

/** Builds a bench image from bench/images/<dir> unless one of the same context exists; returns its tag. */
export async function benchImage(dir: 'tools' | 'baseline', log: (s: string) => void): Promise<string> {
  const context = join(__dirname, 'images', dir);
  const tag = `mailstack-bench-${dir}:${hashContext(context, BASE_IMAGE)}`;
  try {
    await docker.getImage(tag).inspect();
    return tag;
  } catch {
    // not built yet
  }
  log(`  building ${tag}`);
  const stream = await docker.buildImage({ context, src: readdirSync(context) }, { t: tag, buildargs: { BASE_IMAGE } });
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, output: { error?: string }[]) => {
      const failed = err?.message ?? output.find((o) => o.error)?.error;
      if (failed) reject(new Error(`building ${tag} failed: ${failed}`));
      else resolve();
    }),
  );
  return tag;
}

/** Resident memory (anon/rss), what `docker stats` shows as usage, and CPU time, of a container now. */
export async function containerStats(container: string): Promise<{ rssBytes: number; usageBytes: number; cpuSeconds: number }> {
  const s = (await docker.getContainer(container).stats({ stream: false, 'one-shot': true } as { stream: false })) as unknown as {
    memory_stats: { usage?: number; stats?: Record<string, number> };
    cpu_stats: { cpu_usage: { total_usage: number } };
  };
  const st = s.memory_stats.stats ?? {};
  // cgroup v1: rss (+ rss_huge); v2: anon.
  const rss = st.total_rss ?? st.rss ?? st.anon ?? 0;
  const inactiveFile = st.total_inactive_file ?? st.inactive_file ?? 0;
  return { rssBytes: rss, usageBytes: (s.memory_stats.usage ?? 0) - inactiveFile, cpuSeconds: s.cpu_stats.cpu_usage.total_usage / 1e9 };
}

// ---------------------------------------------------------------- the stack under test

export const EXAMPLE_CONFIG = join(ROOT, 'mailstack.yaml');
/** Alice's hash from the shipped example; every bench mailbox uses it (no hashing at synth time). */
export const EXAMPLE_HASH = (yaml.load(readFileSync(EXAMPLE_CONFIG, 'utf8')) as { mailboxes: { passwordHash: string }[] }).mailboxes[0].passwordHash;

export interface BenchStack {
  readonly prefix: string;
  readonly configPath: string;
  readonly ports: Readonly<Record<MailService, number>>;
  readonly network: string;
  readonly containers: { readonly postfix: string; readonly dovecot: string; readonly opendkim: string; readonly directory: string };
  up(): Promise<unknown>;
  /** down --purge, then the image tags and files this stack made. */
  destroy(): Promise<void>;
}

/**
 * The shipped example as an operator would run it, made private to a
 * benchmark: its own prefix (b-…), free ports on 127.0.0.1, extra mailboxes,
 * and per-client rate limits off (one load generator is one client address).
 */
export async function benchStack(name: string, extraMailboxes: readonly string[] = [], log: (s: string) => void = () => undefined): Promise<BenchStack> {
  const dir = mkdtempSync(join(tmpdir(), `mailstack-bench-${name}-`));
  const prefix = `b-${name}-${process.pid}`;
  const doc = yaml.load(readFileSync(EXAMPLE_CONFIG, 'utf8')) as Record<string, unknown>;
  const ports = {} as Record<MailService, number>;
  for (const service of MAIL_SERVICES) ports[service] = await freePort();
  const limitKeys = Object.keys((schema as { properties: { limits: { properties: Record<string, unknown> } } }).properties.limits.properties);
  const limits = { ...(doc.limits as object) } as Record<string, number>;
  for (const key of limitKeys.filter((k) => /^client/.test(k))) limits[key] = 0;
  (doc.mailboxes as object[]).push(...extraMailboxes.map((address) => ({ address, passwordHash: EXAMPLE_HASH })));
  Object.assign(doc, { ports, limits, docker: { ...(doc.docker as object), bindAddress: '127.0.0.1', namePrefix: prefix } });
  const configPath = join(dir, 'mailstack.yaml');
  writeFileSync(configPath, yaml.dump(doc));
  const options = { log: (line: string) => log(`    ${line}`) };
  return {
    prefix,
    configPath,
    ports,
    network: `${prefix}-net`,
    containers: { postfix: `${prefix}-postfix`, dovecot: `${prefix}-dovecot`, opendkim: `${prefix}-opendkim`, directory: `${prefix}-directory` },
    up: () => up(configPath, options),
    destroy: async () => {
      await down(configPath, { purge: true }).catch((err) => log(`  down failed: ${(err as Error).message}`));
      await removeImagesNamed(`${prefix}-`);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Removes image tags whose repository starts with a prefix (the image stays while another tag holds it). */
export async function removeImagesNamed(repositoryPrefix: string): Promise<void> {
  for (const image of await docker.listImages()) {
    for (const tag of image.RepoTags ?? []) {
      if (tag.startsWith(repositoryPrefix)) await docker.getImage(tag).remove().catch(() => undefined);
    }
  }
}

/** The image id a stack container runs. */
export async function imageOf(container: string): Promise<string> {
  return (await docker.getContainer(container).inspect()).Image;
}

// ---------------------------------------------------------------- mail

export interface SourceRun {
  /** Epoch seconds when smtp-source started and ended (taken inside its container). */
  readonly start: number;
  readonly end: number;
  readonly exitCode: number;
  readonly stderr: string;
  readonly commandLine: string;
}

/**
 * Postfix's smtp-source (from the stack's own postfix image) against host:25
 * on a Docker network: `messages` messages of `sizeBytes` in `sessions`
 * parallel sessions, a new connection per message, as remote MTAs do.
 */
export async function smtpSource(o: { image: string; network: string; host: string; sessions: number; messages: number; sizeBytes: number; from: string; to: string }): Promise<SourceRun> {
  const args = ['-s', String(o.sessions), '-m', String(o.messages), '-l', String(o.sizeBytes), '-M', 'client.remote.test', '-f', o.from, '-t', o.to, `${o.host}:25`];
  const commandLine = `smtp-source ${args.join(' ')}`;
  const r = await run({ image: o.image, network: o.network, entrypoint: ['/bin/sh', '-c', 'date +%s.%N; smtp-source "$@"; rc=$?; date +%s.%N; exit $rc', 'sh'], cmd: args });
  const [start, end] = r.stdout.trim().split('\n').map(Number);
  return { start, end, exitCode: r.exitCode, stderr: r.stderr, commandLine };
}

/** Modification times (epoch seconds) of the messages in a Maildir's new/ and cur/. */
export async function maildirTimes(container: string, maildir: string): Promise<number[]> {
  const r = await exec(container, ['sh', '-c', `find ${maildir}/new ${maildir}/cur -type f -printf '%T@\\n' 2>/dev/null`]);
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

/** Waits until a Maildir holds `count` messages; returns their mtimes. */
export async function waitForMaildir(container: string, maildir: string, count: number, timeoutSeconds: number): Promise<number[]> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const times = await maildirTimes(container, maildir);
    if (times.length >= count || Date.now() > deadline) return times;
    await sleep(250);
  }
}

export interface Delivery {
  readonly queueId: string;
  /** Docker's time of cleanup's `message-id=` line: the message is being committed to the queue. */
  readonly accepted?: number;
  /** Docker's time of the `status=sent` line: the delivery agent has the final OK (file written, fsynced). */
  readonly sent?: number;
  /** postfix's own delay= (arrival to delivery), seconds. */
  readonly delay?: number;
}

/** Per queue id, from a postfix mail log with Docker timestamps: when it was accepted and delivered, for one sender. */
export function deliveriesFrom(lines: readonly { t: number; line: string }[], sender: string): Delivery[] {
  const byId = new Map<string, { accepted?: number; sent?: number; delay?: number; mine?: boolean }>();
  const get = (id: string) => byId.get(id) ?? byId.set(id, {}).get(id)!;
  for (const { t, line } of lines) {
    const m = /postfix\/(\w+)\[\d+\]: ([0-9A-Za-z]{6,}): (.*)$/.exec(line);
    if (!m) continue;
    const [, daemon, id, rest] = m;
    if (daemon === 'cleanup' && rest.startsWith('message-id=')) get(id).accepted ??= t;
    else if (daemon === 'qmgr' && rest.startsWith(`from=<${sender}>`)) get(id).mine = true;
    else if (/status=sent/.test(rest)) {
      const d = get(id);
      d.sent = t;
      d.delay = Number(/ delay=([\d.]+)/.exec(rest)?.[1]);
    }
  }
  return [...byId].filter(([, d]) => d.mine).map(([queueId, d]) => ({ queueId, accepted: d.accepted, sent: d.sent, delay: d.delay }));
}

// ---------------------------------------------------------------- systems under load

/** A mail system smtp-source can load: the stack, or the naive baseline. */
export interface MailTarget {
  readonly label: string;
  readonly network: string;
  /** Its SMTP server's name on `network`. */
  readonly smtpHost: string;
  /** An image holding smtp-source (the stack's postfix image). */
  readonly sourceImage: string;
  /** The container whose log is postfix's mail log. */
  readonly logContainer: string;
  readonly containers: readonly string[];
  /** The container that sees the Maildirs. */
  readonly maildirContainer: string;
  address(user: string): string;
  maildir(user: string): string;
}

export function stackTarget(stack: BenchStack, sourceImage: string): MailTarget {
  return {
    label: 'stack',
    network: stack.network,
    smtpHost: stack.containers.postfix,
    sourceImage,
    logContainer: stack.containers.postfix,
    containers: [stack.containers.postfix, stack.containers.dovecot, stack.containers.opendkim, stack.containers.directory],
    maildirContainer: stack.containers.dovecot,
    address: (user) => `${user}@example.test`,
    maildir: (user) => `/var/mail/example.test/${user}/Maildir`,
  };
}

/**
 * The naive baseline (bench/images/baseline) on its own network, with its
 * homes (Maildirs) and queue on volumes like the stack's.
 */
export async function startBaseline(name: string, sourceImage: string, log: (s: string) => void): Promise<{ target: MailTarget; destroy: () => Promise<void> }> {
  const image = await benchImage('baseline', log);
  const prefix = `b-${name}-base-${process.pid}`;
  const network = await docker.createNetwork({ Name: `${prefix}-net` });
  const c = await docker.createContainer({
    name: prefix,
    Image: image,
    Hostname: 'mail.baseline.test',
    HostConfig: { NetworkMode: `${prefix}-net`, Binds: [`${prefix}-home:/home`, `${prefix}-spool:/var/spool/postfix`] },
  });
  const destroy = async () => {
    await c.remove({ force: true, v: true }).catch(() => undefined);
    await network.remove().catch(() => undefined);
    for (const v of ['home', 'spool']) await docker.getVolume(`${prefix}-${v}`).remove().catch(() => undefined);
  };
  try {
    await c.start();
    const target: MailTarget = {
      label: 'baseline',
      network: `${prefix}-net`,
      smtpHost: prefix,
      sourceImage,
      logContainer: prefix,
      containers: [prefix],
      maildirContainer: prefix,
      address: (user) => `${user}@mail.baseline.test`,
      maildir: (user) => `/home/${user}/Maildir`,
    };
    // Up when it takes mail.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await smtpSource({ image: sourceImage, network: target.network, host: target.smtpHost, sessions: 1, messages: 1, sizeBytes: 100, from: 'ready@remote.test', to: target.address('warm') });
      if (r.exitCode === 0 && !/error|refused|fatal/i.test(r.stderr)) break;
      if (Date.now() > deadline) throw new Error(`the baseline does not take mail: ${r.stderr}`);
      await sleep(500);
    }
    return { target, destroy };
  } catch (err) {
    await destroy();
    throw err;
  }
}

export interface LoadResult {
  readonly system: string;
  readonly sessions: number;
  readonly messages: number;
  readonly sizeBytes: number;
  /** Messages postfix queued (qmgr saw them) for this run's sender. */
  readonly accepted: number;
  /** Messages counted in the Maildir. */
  readonly delivered: number;
  readonly acceptedPerSecond: number;
  readonly deliveredPerSecond: number;
  /** From cleanup's commit to the delivery agent's status=sent, by Docker's log timestamps. */
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  /** postfix's own delay= (arrival, including the SMTP transaction, to delivery; 10 ms resolution). */
  readonly delayP50Ms: number;
  readonly delayP99Ms: number;
  readonly sourceSeconds: number;
  readonly commandLine: string;
}

/** smtp-source → count in the Maildir → latencies from the mail log. */
export async function loadRun(target: MailTarget, o: { sessions: number; messages: number; sizeBytes: number; user: string; tag: string }): Promise<LoadResult> {
  const from = `${o.tag}-${Date.now().toString(36)}@remote.test`;
  const before = (await maildirTimes(target.maildirContainer, target.maildir(o.user))).length;
  const src = await smtpSource({ image: target.sourceImage, network: target.network, host: target.smtpHost, sessions: o.sessions, messages: o.messages, sizeBytes: o.sizeBytes, from, to: target.address(o.user) });
  if (src.exitCode !== 0) throw new Error(`smtp-source against ${target.label} failed (${src.exitCode}): ${src.stderr}`);
  const times = await waitForMaildir(target.maildirContainer, target.maildir(o.user), before + o.messages, 60 + o.messages / 5);
  const mine = times.filter((t) => t >= src.start).sort((a, b) => a - b);
  const deliveries = deliveriesFrom(await timedLogs(target.logContainer, src.start - 1), from);
  const lat = deliveries.filter((d) => d.accepted !== undefined && d.sent !== undefined).map((d) => (d.sent! - d.accepted!) * 1000);
  const delays = deliveries.filter((d) => d.delay !== undefined).map((d) => d.delay! * 1000);
  const delivered = mine.length;
  return {
    system: target.label,
    sessions: o.sessions,
    messages: o.messages,
    sizeBytes: o.sizeBytes,
    accepted: deliveries.length,
    delivered,
    acceptedPerSecond: deliveries.length / (src.end - src.start),
    deliveredPerSecond: delivered / (mine[mine.length - 1] - src.start),
    latencyP50Ms: percentile(lat, 0.5),
    latencyP99Ms: percentile(lat, 0.99),
    delayP50Ms: percentile(delays, 0.5),
    delayP99Ms: percentile(delays, 0.99),
    sourceSeconds: src.end - src.start,
    commandLine: src.commandLine,
  };
}

const SYNC_CALLS = 'fsync,fdatasync,sync_file_range,syncfs,sync,msync';

/**
 * Every sync call the target's processes make while `messages` messages are
 * delivered one at a time: strace attached from a tools container sharing
 * each container's pid namespace. Returns the calls per message, by file.
 */
export async function traceFsyncs(target: MailTarget, user: string, messages: number, log: (s: string) => void): Promise<{ perMessage: number; byFile: Record<string, number>; commandLine: string }> {
  const tools = await benchImage('tools', log);
  const script = `pids=""; for d in /proc/[0-9]*; do p=\${d#/proc/}; [ "$p" = "$$" ] || pids="$pids -p $p"; done; exec strace -f -qq -y -e trace=${SYNC_CALLS} $pids`;
  const tracers = await Promise.all(
    target.containers.map((c) => start({ image: tools, entrypoint: ['/bin/sh', '-c', script], cmd: [], pidMode: `container:${c}`, capAdd: ['SYS_PTRACE'], securityOpt: ['seccomp=unconfined'] })),
  );
  await sleep(1500); // attached
  let out = '';
  try {
    const before = (await maildirTimes(target.maildirContainer, target.maildir(user))).length;
    const src = await smtpSource({ image: target.sourceImage, network: target.network, host: target.smtpHost, sessions: 1, messages, sizeBytes: 4096, from: 'trace@remote.test', to: target.address(user) });
    if (src.exitCode !== 0) throw new Error(`smtp-source failed: ${src.stderr}`);
    const got = await waitForMaildir(target.maildirContainer, target.maildir(user), before + messages, 60);
    if (got.length < before + messages) throw new Error(`only ${got.length - before} of ${messages} traced messages were delivered`);
    await sleep(1000); // the last delivery's bookkeeping
  } finally {
    for (const t of tracers) out += (await t.stop()).stderr;
  }
  const byFile: Record<string, number> = {};
  let total = 0;
  for (const line of out.split('\n')) {
    const m = new RegExp(`^(?:\\[pid +\\d+\\] )?(${SYNC_CALLS.replace(/,/g, '|')})\\((?:\\d+<([^>]*)>)?`).exec(line);
    if (!m) continue;
    total++;
    const key = `${m[1]} ${normalizePath(m[2] ?? '')}`;
    byFile[key] = (byFile[key] ?? 0) + 1;
  }
  for (const k of Object.keys(byFile)) byFile[k] /= messages;
  return { perMessage: total / messages, byFile, commandLine: `strace -f -qq -y -e trace=${SYNC_CALLS} -p <every pid of ${target.containers.join(', ')}>` };
}

/** A file path with the per-message and per-mailbox parts taken out. */
function normalizePath(path: string): string {
  return path
    .replace(/^\/var\/mail\/[^/]+\/[^/]+\//, '~/')
    .replace(/^\/home\/[^/]+\//, '~/')
    .replace(/\/(tmp|new|cur|incoming|active|deferred|maildrop)\/[^/]+$/, '/$1/<message>')
    .replace(/\/[0-9A-F]{9,}$/, '/<queue id>');
}

/** Runs `work` while sampling each container's memory every 500 ms; the peak of each, and CPU used. */
export async function sampled<T>(containers: readonly string[], work: () => Promise<T>): Promise<{ value: T; peakRss: Record<string, number>; peakUsage: Record<string, number>; cpuSeconds: Record<string, number> }> {
  const before = Object.fromEntries(await Promise.all(containers.map(async (c) => [c, await containerStats(c)] as const)));
  const peakRss: Record<string, number> = {};
  const peakUsage: Record<string, number> = {};
  let done = false;
  const sampler = (async () => {
    while (!done) {
      for (const c of containers) {
        const s = await containerStats(c).catch(() => undefined);
        if (!s) continue;
        peakRss[c] = Math.max(peakRss[c] ?? 0, s.rssBytes);
        peakUsage[c] = Math.max(peakUsage[c] ?? 0, s.usageBytes);
      }
      await sleep(500);
    }
  })();
  let value: T;
  try {
    value = await work();
  } finally {
    done = true;
    await sampler;
  }
  const after = Object.fromEntries(await Promise.all(containers.map(async (c) => [c, await containerStats(c)] as const)));
  const cpuSeconds = Object.fromEntries(containers.map((c) => [c, after[c].cpuSeconds - before[c].cpuSeconds]));
  return { value, peakRss, peakUsage, cpuSeconds };
}
