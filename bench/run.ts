/**
 * `npm run bench [-- <name>...] [--tiny] [--out DIR]`: runs the benchmarks
 * (all, or those named), writes DIR/<name>.json and regenerates the report.
 * Full runs write bench/results/ and BENCHMARKS.md; --tiny (CI's seconds-long
 * version) writes to a temporary directory unless --out is given.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { BenchOptions, BenchResult, ROOT } from './lib';
import { writeReport } from './report';
import { firstMailBench } from './first-mail';
import { footprint } from './footprint';
import { synthScaling } from './synth-scaling';
import { throughput } from './throughput';

export const BENCHMARKS: Record<string, (o: BenchOptions) => Promise<BenchResult>> = {
  throughput,
  footprint,
  'first-mail': firstMailBench,
  'synth-scaling': synthScaling,
};

async function main(argv: string[]): Promise<void> {
  const tiny = argv.includes('--tiny');
  const outAt = argv.indexOf('--out');
  const outDir = outAt >= 0 ? argv[outAt + 1] : tiny ? join(tmpdir(), 'mailstack-bench-tiny') : join(ROOT, 'bench', 'results');
  const names = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--out');
  const unknown = names.filter((n) => !(n in BENCHMARKS));
  if (unknown.length > 0) throw new Error(`no benchmark ${unknown.join(', ')}; there are: ${Object.keys(BENCHMARKS).join(', ')}`);
  const log = (line: string) => console.log(line);
  for (const name of names.length > 0 ? names : Object.keys(BENCHMARKS)) await BENCHMARKS[name]({ tiny, outDir, log });
  const report = writeReport(outDir, outAt >= 0 || tiny ? join(outDir, 'BENCHMARKS.md') : join(ROOT, 'BENCHMARKS.md'));
  console.log(`Report: ${report}`);
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
