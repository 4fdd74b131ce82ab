/**
 * 2. Footprint: image sizes, resident memory of each container idle and under
 * a 10-session load, CPU seconds per 1,000 messages; the naive baseline beside it.
 */
import { BASE_IMAGE, BenchOptions, benchStack, BenchResult, containerStats, docker, imageOf, loadRun, MailTarget, record, sampled, sleep, stackTarget, startBaseline } from './lib';

const MB = 1e6;
const MiB = 2 ** 20;

/** What others ask for, from their documentation (not measured here). */
const OTHERS = [
  ['docker-mailserver', '512 MB without ClamAV, 2 GB recommended'],
  ['Mailu', '1 GB'],
  ['mailcow', '6 GiB'],
];

export async function footprint(options: BenchOptions): Promise<BenchResult> {
  const { tiny, log } = options;
  const settleSeconds = tiny ? 2 : 30;
  const messages = tiny ? 20 : 3000;
  const sessions = 10;
  return record('footprint', options, async () => {
    const stack = await benchStack('fp', ['load10@example.test', 'warm@example.test'], log);
    let baseline: Awaited<ReturnType<typeof startBaseline>> | undefined;
    try {
      log('  up: the stack');
      await stack.up();
      const sourceImage = await imageOf(stack.containers.postfix);
      baseline = await startBaseline('fp', sourceImage, log);
      const targets: MailTarget[] = [stackTarget(stack, sourceImage), baseline.target];
      const baseSize = (await docker.getImage(BASE_IMAGE).inspect()).Size;

      const images: (string | number)[][] = [];
      for (const t of targets) {
        for (const c of t.containers) {
          const image = await docker.getImage(await imageOf(c)).inspect();
          const role = t.label === 'stack' ? c.slice(stack.prefix.length + 1) : 'baseline (postfix)';
          images.push([role, image.Size / MB, (image.Size - baseSize) / MB]);
        }
      }

      // Every process a delivery needs has run once, then the system is left alone.
      for (const t of targets) await loadRun(t, { sessions: 2, messages: 10, sizeBytes: 4096, user: 'warm', tag: 'warm' });
      log(`  idle for ${settleSeconds} s`);
      await sleep(settleSeconds * 1000);
      const idle: Record<string, { rss: number; usage: number }> = {};
      for (const t of targets) {
        for (const c of t.containers) {
          const samples = [];
          for (let i = 0; i < 3; i++) samples.push(await containerStats(c));
          idle[c] = { rss: Math.max(...samples.map((s) => s.rssBytes)), usage: Math.max(...samples.map((s) => s.usageBytes)) };
        }
      }

      const loaded = [];
      for (const t of targets) {
        log(`  ${t.label}: ${messages} messages, ${sessions} sessions, sampling memory`);
        loaded.push({ target: t, ...(await sampled(t.containers, () => loadRun(t, { sessions, messages, sizeBytes: 4096, user: 'load10', tag: 'fp' }))) });
      }

      const figures: Record<string, number> = {};
      const memoryRows: (string | number)[][] = [];
      const cpuRows: (string | number)[][] = [];
      for (const l of loaded) {
        const t = l.target;
        const name = (c: string) => (t.label === 'stack' ? c.slice(stack.prefix.length + 1) : 'baseline');
        let idleSum = 0;
        let peakSum = 0;
        let cpuSum = 0;
        for (const c of t.containers) {
          idleSum += idle[c].rss;
          peakSum += l.peakRss[c] ?? 0;
          cpuSum += l.cpuSeconds[c];
          memoryRows.push([name(c), idle[c].rss / MiB, idle[c].usage / MiB, (l.peakRss[c] ?? 0) / MiB, (l.peakUsage[c] ?? 0) / MiB]);
          cpuRows.push([name(c), l.cpuSeconds[c], (1000 * l.cpuSeconds[c]) / l.value.delivered]);
        }
        if (t.containers.length > 1) {
          memoryRows.push([`**${t.label} total**`, idleSum / MiB, t.containers.reduce((a, c) => a + idle[c].usage, 0) / MiB, peakSum / MiB, t.containers.reduce((a, c) => a + (l.peakUsage[c] ?? 0), 0) / MiB]);
          cpuRows.push([`**${t.label} total**`, cpuSum, (1000 * cpuSum) / l.value.delivered]);
        }
        Object.assign(figures, {
          [`${t.label}_rss_idle_mib`]: idleSum / MiB,
          [`${t.label}_rss_load_mib`]: peakSum / MiB,
          [`${t.label}_cpu_seconds_per_1000`]: (1000 * cpuSum) / l.value.delivered,
          [`${t.label}_delivered_per_second`]: l.value.deliveredPerSecond,
        });
      }
      figures.stack_image_mb = images.filter((r) => !String(r[0]).startsWith('baseline')).reduce((a, r) => a + Number(r[2]), 0) + baseSize / MB;
      const cores = (await docker.info()).NCPU as number;
      const ceiling = (cores * 1000) / figures.stack_cpu_seconds_per_1000;
      return {
        method: [
          `Image sizes: \`docker image inspect\` .Size of the images the running containers use; "above the base" subtracts ${BASE_IMAGE} (${(baseSize / MB).toFixed(0)} MB here, made with debootstrap --variant=minbase, larger than the registry's -slim image), which the three images share on disk (the directory container runs on the dovecot image).`,
          `Memory: the Docker engine's stats API (what \`docker stats\` reads) for each container: resident = the cgroup's anonymous memory (rss on cgroup v1, anon on v2); "docker stats" = usage minus inactive file cache, the figure \`docker stats\` prints. Idle: ${settleSeconds} s after a warm-up of 10 messages, the largest of 3 samples. Under load: the peak of samples every 500 ms while smtp-source sends ${messages} messages of 4 KB in ${sessions} sessions and until they are all in the Maildir.`,
          'CPU: the cgroup\'s CPU time (user + system, all processes) from before smtp-source starts to the last delivery, divided by the messages delivered; the load generator runs in its own container and is not counted.',
          `The stack is the shipped mailstack.yaml (postfix, dovecot, OpenDKIM, the mail directory) with per-client rate limits off; the baseline is the same single-container Debian postfix as in the throughput benchmark.`,
        ],
        commands: [
          'docker image inspect --format {{.Size}} IMAGE',
          'curl --unix-socket /var/run/docker.sock "http://localhost/containers/NAME/stats?stream=false&one-shot=true"   # memory_stats, cpu_stats',
          `docker run --rm --network NET --entrypoint smtp-source POSTFIX_IMAGE ${loaded[0].value.commandLine.replace(/^smtp-source /, '')}`,
        ],
        tables: [
          { title: 'Image sizes (MB)', columns: ['image', 'size', 'above the base image'], rows: images },
          { title: `Memory (MiB): idle, and peak under ${sessions} sessions`, columns: ['container', 'resident idle', 'docker stats idle', 'resident under load', 'docker stats under load'], rows: memoryRows },
          { title: `CPU: ${messages} messages of 4 KB, ${sessions} sessions`, columns: ['container', 'CPU seconds', 'CPU seconds per 1,000 messages'], rows: cpuRows },
          { title: 'What others ask for (their documentation, not measured here)', columns: ['mail stack', 'RAM asked for'], rows: OTHERS },
        ],
        figures,
        findings: [
          `Idle, the stack's four containers hold ${figures.stack_rss_idle_mib.toFixed(0)} MiB resident; under ${sessions} sessions at most ${figures.stack_rss_load_mib.toFixed(0)} MiB (the baseline: ${figures.baseline_rss_idle_mib.toFixed(0)} / ${figures.baseline_rss_load_mib.toFixed(0)} MiB).`,
          `The stack spends ${figures.stack_cpu_seconds_per_1000.toFixed(1)} CPU seconds per 1,000 messages (the baseline ${figures.baseline_cpu_seconds_per_1000.toFixed(1)}): on ${cores} cores that alone caps it near ${ceiling.toFixed(0)} msg/s.`,
        ],
      };
    } finally {
      await baseline?.destroy();
      await stack.destroy();
    }
  });
}
