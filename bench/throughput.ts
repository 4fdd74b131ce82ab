/**
 * 1. Throughput and latency: smtp-source against the stack's port 25 at 1, 10
 * and 50 sessions, beside the disk's synchronous-write limit and a naive
 * single-container postfix.
 */
import { BenchOptions, benchImage, benchStack, BenchResult, docker, imageOf, loadRun, LoadResult, record, run, stackTarget, startBaseline, traceFsyncs } from './lib';

const SIZE = 4096;

export async function throughput(options: BenchOptions): Promise<BenchResult> {
  const { tiny, log } = options;
  const sessions = tiny ? [1, 10] : [1, 10, 50];
  const messages = tiny ? 20 : 5000;
  const fsyncSeconds = tiny ? 1 : 10;
  const traced = tiny ? 5 : 50;
  return record('throughput', options, async () => {
    const tools = await benchImage('tools', log);
    // (a) The physical limit: N writers each creating, writing and fsyncing 4 KB files on a volume (same filesystem as the mail volume).
    const volume = `b-tp-fsync-${process.pid}`;
    const fsync: Record<number, { opsPerSecond: number; p50Ms: number; p99Ms: number }> = {};
    const fsyncCommand = (n: number) => `python3 fsync-loop.py /data/run${n} ${n} ${fsyncSeconds} ${SIZE}`;
    try {
      await docker.createVolume({ Name: volume });
      for (const n of sessions) {
        const r = await run({ image: tools, entrypoint: ['/bin/sh', '-c', `mkdir -p /data/run${n} && ${fsyncCommand(n).replace('fsync-loop.py', '/usr/local/bin/fsync-loop.py')}; rm -rf /data/run${n}`], cmd: [], mounts: { [volume]: '/data' } });
        if (r.exitCode !== 0) throw new Error(`fsync loop failed: ${r.stderr}`);
        fsync[n] = JSON.parse(r.stdout.trim().split('\n').pop()!);
        log(`  fsync loop, ${n} writer(s): ${Math.round(fsync[n].opsPerSecond)}/s`);
      }
    } finally {
      await docker.getVolume(volume).remove().catch(() => undefined);
    }

    const users = ['warm', 'trace', ...sessions.map((n) => `load${n}`)];
    const stack = await benchStack('tp', users.map((u) => `${u}@example.test`), log);
    let baseline: Awaited<ReturnType<typeof startBaseline>> | undefined;
    try {
      log('  up: the stack');
      await stack.up();
      const sourceImage = await imageOf(stack.containers.postfix);
      const targets = [stackTarget(stack, sourceImage)];
      log('  up: the baseline');
      baseline = await startBaseline('tp', sourceImage, log);
      targets.push(baseline.target);

      // Every process started and every Maildir made before anything is measured.
      for (const t of targets) {
        await loadRun(t, { sessions: 2, messages: 10, sizeBytes: SIZE, user: 'warm', tag: 'warm' });
        await loadRun(t, { sessions: 1, messages: 1, sizeBytes: SIZE, user: 'trace', tag: 'warm' });
      }
      // (b) fsyncs each delivered message needs.
      const traces = [];
      for (const t of targets) {
        log(`  tracing sync calls of ${traced} messages to the ${t.label}`);
        traces.push(await traceFsyncs(t, 'trace', traced, log));
      }

      const runs: LoadResult[] = [];
      for (const n of sessions) {
        for (const t of targets) {
          log(`  ${t.label}: ${messages} messages, ${n} session(s)`);
          const r = await loadRun(t, { sessions: n, messages, sizeBytes: SIZE, user: `load${n}`, tag: `s${n}` });
          log(`    accepted ${r.acceptedPerSecond.toFixed(1)}/s, delivered ${r.deliveredPerSecond.toFixed(1)}/s, p50 ${r.latencyP50Ms.toFixed(1)} ms, p99 ${r.latencyP99Ms.toFixed(1)} ms`);
          runs.push(r);
        }
      }

      const [stackTrace, baseTrace] = traces;
      const get = (system: string, n: number) => runs.find((r) => r.system === system && r.sessions === n)!;
      const figures: Record<string, number> = {
        fsyncs_per_message_stack: stackTrace.perMessage,
        fsyncs_per_message_baseline: baseTrace.perMessage,
      };
      const limitRows = sessions.map((n) => {
        const s = get('stack', n);
        const b = get('baseline', n);
        const limit = fsync[n].opsPerSecond / stackTrace.perMessage;
        Object.assign(figures, {
          [`fsync_per_second_${n}`]: fsync[n].opsPerSecond,
          [`limit_msgs_per_second_${n}`]: limit,
          [`stack_accepted_per_second_${n}`]: s.acceptedPerSecond,
          [`stack_delivered_per_second_${n}`]: s.deliveredPerSecond,
          [`stack_latency_p50_ms_${n}`]: s.latencyP50Ms,
          [`stack_latency_p99_ms_${n}`]: s.latencyP99Ms,
          [`baseline_delivered_per_second_${n}`]: b.deliveredPerSecond,
          [`stack_over_limit_${n}`]: s.deliveredPerSecond / limit,
          [`stack_over_baseline_${n}`]: s.deliveredPerSecond / b.deliveredPerSecond,
        });
        return [
          n,
          fsync[n].opsPerSecond,
          fsync[n].p50Ms,
          stackTrace.perMessage,
          limit,
          s.deliveredPerSecond,
          `${Math.round((100 * s.deliveredPerSecond) / limit)} %`,
          b.deliveredPerSecond,
          `${(s.deliveredPerSecond / b.deliveredPerSecond).toFixed(2)}×`,
        ];
      });
      const files = [...new Set([...Object.keys(stackTrace.byFile), ...Object.keys(baseTrace.byFile)])].sort();
      const mid = sessions.includes(10) ? 10 : sessions[sessions.length - 1];
      return {
        method: [
          `Load: Postfix's \`smtp-source\` (Debian's postfix package; run from the stack's own postfix image in a container on the system's Docker network, so no userland proxy is in the path) sends ${messages} messages of ${SIZE} bytes, a new SMTP connection per message as remote MTAs do, in 1${tiny ? '' : ', 10 and 50'} parallel session(s), to port 25. The stack is the shipped mailstack.yaml (postfix, dovecot over LMTP, the OpenDKIM milter, the quota-status policy check) with per-client rate limits off, since one load generator is one client address.`,
          'Accepted msg/s: messages postfix queued for the run (qmgr log lines) divided by smtp-source\'s wall time. Delivered msg/s: messages counted in the recipient\'s Maildir (files in new/ and cur/), divided by the time from smtp-source\'s start to the last file\'s mtime.',
          'Latency: per queue id, from the time Docker logged cleanup\'s `message-id=` line (written while the message is committed to the queue, just before the 250 reply) to the time it logged the delivery agent\'s `status=sent` (dovecot answers LMTP, and local(8) returns, only after the Maildir file is written and fsynced). Docker timestamps both lines to the microsecond. postfix\'s own `delay=` (arrival, including the SMTP transaction, to delivery; 10 ms resolution) is recorded too as a cross-check.',
          `The physical limit: \`bench/images/tools/fsync-loop.py\` in a container on a fresh Docker volume (the filesystem the mail and queue volumes live on): N writers each create a file, write ${SIZE} bytes, fsync, close, for ${fsyncSeconds} s. The fsyncs each delivered message needs were counted with strace attached to every process of every container while ${traced} messages were delivered one at a time; limit msg/s = fsyncs/s at the same concurrency ÷ fsyncs per message.`,
          'The naive baseline: one container from debian:bookworm-slim with Debian\'s postfix installed as debconf\'s "Internet Site", delivering with local(8) to local users; changed only in host name, `home_mailbox = Maildir/` (so its deliveries are counted and fsynced the same way) and the log on stdout; homes and queue on volumes (`bench/images/baseline/Dockerfile`). Both systems were up at the same time and loaded one after the other at each concurrency.',
        ],
        commands: [
          ...sessions.map((n) => `docker run --rm -v VOLUME:/data mailstack-bench-tools ${fsyncCommand(n)}`),
          stackTrace.commandLine,
          ...runs.map((r) => `docker run --rm --network NET --entrypoint smtp-source POSTFIX_IMAGE ${r.commandLine.replace(/^smtp-source /, '')}`),
        ],
        tables: [
          {
            title: `Throughput and latency: ${messages} messages of 4 KB to one mailbox`,
            columns: ['sessions', 'system', 'accepted msg/s', 'delivered msg/s', 'delivered', 'p50 queued→Maildir ms', 'p99 queued→Maildir ms', 'postfix delay p50 / p99 ms'],
            rows: runs.map((r) => [r.sessions, r.system, r.acceptedPerSecond, r.deliveredPerSecond, `${r.delivered}/${r.messages}`, r.latencyP50Ms, r.latencyP99Ms, `${r.delayP50Ms} / ${r.delayP99Ms}`]),
          },
          {
            title: "Against the disk's limit and the baseline",
            columns: ['sessions', 'fsync/s (same concurrency)', 'fsync p50 ms', 'fsyncs per message (stack)', 'limit msg/s', 'stack delivered msg/s', 'stack / limit', 'baseline delivered msg/s', 'stack / baseline'],
            rows: limitRows,
          },
          {
            title: 'Sync calls per delivered message, by file (strace)',
            columns: ['call and file', 'stack', 'baseline'],
            rows: [...files.map((f) => [`\`${f}\``, stackTrace.byFile[f] ?? 0, baseTrace.byFile[f] ?? 0]), ['total', stackTrace.perMessage, baseTrace.perMessage]],
          },
        ],
        figures,
        findings: [
          `Each message costs the stack ${stackTrace.perMessage.toFixed(1)} sync calls (postfix's queue file, then dovecot's Maildir file, the new/ directory and dovecot-uidlist) and the baseline ${baseTrace.perMessage.toFixed(1)}.`,
          `At ${mid} sessions the stack delivers ${figures[`stack_delivered_per_second_${mid}`].toFixed(0)} msg/s: ${(100 * figures[`stack_over_limit_${mid}`]).toFixed(0)} % of what the disk's fsync rate allows (${figures[`limit_msgs_per_second_${mid}`].toFixed(0)} msg/s) and ${figures[`stack_over_baseline_${mid}`].toFixed(2)}× the naive baseline.`,
          ...(sessions.every((n) => figures[`stack_over_limit_${n}`] < 0.5)
            ? ['On this machine the disk is not what limits the stack: it takes thousands of fsyncs a second, and the stack stays well below that at every concurrency. The limit is CPU (2 cores): see the footprint section for the CPU seconds each message costs — about three times the baseline\'s, for the milter, the quota-status policy check, LMTP and dovecot\'s index and quota bookkeeping.']
            : []),
          ...(sessions.some((n) => n > 10 && fsync[n].opsPerSecond < 0.8 * fsync[10]?.opsPerSecond)
            ? ['With 50 writers the fsync loop measures less than with 10: its 50 Python processes compete for 2 cores, so the 50-session limit is a lower bound.']
            : []),
          ...(runs.some((r) => r.deliveredPerSecond < 0.95 * r.acceptedPerSecond)
            ? ["Where a system accepts faster than it delivers, its queue grows during the run and the latency grows to seconds; that is the queue doing its job, not lost mail (every message was counted in the Maildir). The baseline's local(8) delivers to one recipient at most two at a time (Debian's default local_destination_concurrency_limit = 2); the stack's LMTP deliveries run up to 20 at a time."]
            : []),
        ],
      };
    } finally {
      await baseline?.destroy();
      await stack.destroy();
    }
  });
}
