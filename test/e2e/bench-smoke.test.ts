/**
 * The benchmarks' tiny versions, so they cannot rot: each runs end to end and
 * reports figures. No threshold on any number: benchmarks are not timed tests.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchResult } from '../../bench/lib';

jest.setTimeout(8 * 60_000);

const ROOT = join(__dirname, '..', '..');
const NAMES = ['throughput', 'footprint', 'first-mail', 'synth-scaling'];
const dir = mkdtempSync(join(tmpdir(), 'mailstack-bench-smoke-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `npm run bench -- NAME --tiny --out DIR`; resolves with its exit code and output. */
function bench(name: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'bench', '--', name, '--tiny', '--out', join(dir, name)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

// All four at once: each has its own stack prefix and output directory, and tiny numbers are not read.
const runs = Promise.all(NAMES.map(async (name) => [name, await bench(name)] as const)).then((r) => new Map(r));

describe.each(NAMES)('npm run bench -- %s --tiny', (name) => {
  it('runs, writes its JSON with figures and tables, and the report', async () => {
    const run = (await runs).get(name)!;
    if (run.code !== 0) throw new Error(`bench ${name} exited ${run.code}:\n${run.output.slice(-4000)}`);
    const file = join(dir, name, `${name}.json`);
    expect(existsSync(file)).toBe(true);
    const result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
    expect(result).toMatchObject({ name, tiny: true });
    const figures = Object.entries(result.figures);
    expect(figures.length).toBeGreaterThan(0);
    for (const [key, value] of figures) expect([key, Number.isFinite(value) && value > 0]).toEqual([key, true]);
    expect(result.tables.length).toBeGreaterThan(0);
    for (const t of result.tables) expect(t.rows.length).toBeGreaterThan(0);
    expect(result.method.length).toBeGreaterThan(0);
    expect(result.commands.length).toBeGreaterThan(0);
    const report = readFileSync(join(dir, name, 'BENCHMARKS.md'), 'utf8');
    expect(report).toContain(result.tables[0].title);
  });
});
