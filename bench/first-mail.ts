/**
 * 3. Time to first mail: from `npm run up` to the first message accepted on
 * port 25 and readable over IMAPS, with the images already built, and with a
 * cold (no-cache) image build.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { ImapFlow } from 'imapflow';
import * as nodemailer from 'nodemailer';
import { applyStack, loadStack } from '../applier/apply';
import { down, synthesize } from '../cli/stack-commands';
import { BenchOptions, benchStack, BenchResult, BenchStack, nowSeconds, percentile, record, ROOT, sleep } from './lib';

const ALICE = { user: 'alice@example.test', pass: 'alice-secret' };

interface Timing {
  readonly up: number;
  readonly accepted: number;
  readonly readable: number;
}

/** Sends one message on port 25 and waits until IMAPS shows it; seconds after t0. */
async function firstMail(stack: BenchStack, t0: number): Promise<{ accepted: number; readable: number }> {
  const subject = `first mail ${Date.now()}`;
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: stack.ports.smtp, secure: false, tls: { rejectUnauthorized: false }, name: 'client.remote.test' });
  for (let tries = 0; ; tries++) {
    try {
      await transport.sendMail({ from: 'someone@remote.test', to: ALICE.user, subject, text: 'hello' });
      break;
    } catch (err) {
      if (tries > 100) throw err;
      await sleep(100);
    }
  }
  const accepted = nowSeconds() - t0;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const client = new ImapFlow({ host: '127.0.0.1', port: stack.ports.imaps, secure: true, auth: ALICE, tls: { rejectUnauthorized: false }, logger: false });
    try {
      await client.connect();
      for (;;) {
        await client.mailboxOpen('INBOX');
        const found = await client.search({ subject });
        if (Array.isArray(found) && found.length > 0) return { accepted, readable: nowSeconds() - t0 };
        if (Date.now() > deadline) throw new Error(`"${subject}" never became readable over IMAPS`);
        await sleep(100);
      }
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100);
    } finally {
      await client.logout().catch(() => undefined);
    }
  }
}

/** `npm run up -- --config FILE`, as an operator types it. */
function npmUp(configPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'up', '--', '--config', configPath], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`npm run up exited ${code}:\n${output}`))));
  });
}

export async function firstMailBench(options: BenchOptions): Promise<BenchResult> {
  const { tiny, log } = options;
  const reps = tiny ? 1 : 3;
  return record('first-mail', options, async () => {
    const stack = await benchStack('fm', [], log);
    try {
      // The images this prefix names get built (from Docker's layer cache) once; then the stack starts from nothing but them.
      // Tiny skips this: its one run builds the prefix's images from the layer cache, a few seconds more.
      if (!tiny) {
        log('  priming: images built, then down --purge');
        await stack.up();
        await down(stack.configPath, { purge: true });
      }

      const warm: Timing[] = [];
      for (let i = 0; i < reps; i++) {
        const t0 = nowSeconds();
        await npmUp(stack.configPath);
        const up = nowSeconds() - t0;
        const mail = await firstMail(stack, t0);
        warm.push({ up, ...mail });
        log(`  warm ${i + 1}: up ${up.toFixed(1)} s, accepted ${mail.accepted.toFixed(1)} s, readable ${mail.readable.toFixed(1)} s`);
        await down(stack.configPath, { purge: true });
      }

      let cold: (Timing & { synth: number }) | undefined;
      if (!tiny) {
        // What `up` does, with the stack's docker_image resources told to build without Docker's cache.
        const t0 = nowSeconds();
        const synthesized = synthesize(stack.configPath);
        const json = JSON.parse(readFileSync(synthesized.stackFile, 'utf8'));
        for (const image of Object.values(json.resource.docker_image as Record<string, { build: { no_cache?: boolean }[] | { no_cache?: boolean } }>)) {
          for (const b of Array.isArray(image.build) ? image.build : [image.build]) b.no_cache = true;
        }
        writeFileSync(synthesized.stackFile, JSON.stringify(json));
        const synth = nowSeconds() - t0;
        await applyStack(loadStack(synthesized.stackFile), { stateFile: synthesized.stateFile, log: (l) => /building|Step 1\//.test(l) && log(`    ${l.trim()}`) });
        const up = nowSeconds() - t0;
        const mail = await firstMail(stack, t0);
        cold = { synth, up, ...mail };
        log(`  cold: up ${up.toFixed(1)} s, accepted ${mail.accepted.toFixed(1)} s, readable ${mail.readable.toFixed(1)} s`);
      }

      const median = (k: keyof Timing) => percentile(warm.map((w) => w[k]), 0.5);
      const figures: Record<string, number> = { warm_up_seconds: median('up'), warm_accepted_seconds: median('accepted'), warm_readable_seconds: median('readable') };
      const rows: (string | number)[][] = warm.map((w, i) => [`images built, run ${i + 1}`, w.up, w.accepted, w.readable]);
      if (warm.length > 1) rows.push(['images built, median', median('up'), median('accepted'), median('readable')]);
      if (cold) {
        rows.push(['cold image build (no cache)', cold.up, cold.accepted, cold.readable]);
        Object.assign(figures, { cold_up_seconds: cold.up, cold_readable_seconds: cold.readable });
      }
      return {
        method: [
          'The shipped mailstack.yaml with its own prefix and ports on 127.0.0.1. Images built: the prefix\'s images are built once (up, then down --purge), so a measured run starts with no container, volume, network, key or certificate, only the images. Each run times `npm run up -- --config FILE` as a child process (ts-node start, synth, the applier creating 13 resources, waiting until every container is healthy), then a message is sent with nodemailer to port 25 (from the moment up returns) and IMAPS is polled (imapflow, a SELECT and SEARCH SUBJECT every 100 ms) until it is there. Times are seconds from the start of `npm run up`.',
          'Cold image build: the same `up` path run in-process (synthesize, then the applier) with the stack\'s three docker_image resources set to `no_cache`, so every Dockerfile step runs again, apt-get downloads included; only the base image is local.',
        ],
        commands: ['time npm run up -- --config FILE   # then: one message on port 25, poll IMAPS', 'npm run down -- --config FILE --purge'],
        tables: [{ title: 'Seconds from `npm run up` to …', columns: ['run', 'up returned (all healthy)', 'first message accepted', 'readable over IMAPS'], rows }],
        figures,
        findings: [
          `With the images built, the first message is readable ${figures.warm_readable_seconds.toFixed(1)} s after \`npm run up\` starts${cold ? `; with a cold image build, ${cold.readable.toFixed(0)} s` : ''}.`,
        ],
      };
    } finally {
      await stack.destroy();
    }
  });
}
