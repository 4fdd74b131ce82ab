/** `cdktf synth` as an operator runs it: the real CLI, the real main.ts, files on disk. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');

function cdktfSynth(env: Record<string, string> = {}) {
  const out = mkdtempSync(join(tmpdir(), 'mailstack-synth-'));
  const r = spawnSync('npx', ['cdktf', 'synth', '--output', out], {
    cwd: ROOT,
    env: { ...process.env, CHECKPOINT_DISABLE: '1', CI: 'true', ...env },
    encoding: 'utf8',
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}`, out };
}

describe('npx cdktf synth', () => {
  it('synthesizes the shipped mailstack.yaml, byte-identical on a second run', () => {
    const first = cdktfSynth();
    expect(first.status).toBe(0);
    const json = readFileSync(join(first.out, 'stacks', 'mailstack', 'cdk.tf.json'), 'utf8');
    expect(JSON.parse(json).resource.docker_container).toBeDefined();
    const second = cdktfSynth();
    expect(second.status).toBe(0);
    expect(readFileSync(join(second.out, 'stacks', 'mailstack', 'cdk.tf.json'), 'utf8')).toBe(json);
  });

  it('synthesizes the file MAILSTACK_CONFIG names, into a stack named by its namePrefix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailstack-config-'));
    const config = join(dir, 'other.yaml');
    writeFileSync(
      config,
      readFileSync(join(ROOT, 'mailstack.yaml'), 'utf8').replace('namePrefix: mailstack', 'namePrefix: other-mail'),
    );
    const r = cdktfSynth({ MAILSTACK_CONFIG: config });
    expect(r.status).toBe(0);
    expect(readFileSync(join(r.out, 'stacks', 'other-mail', 'cdk.tf.json'), 'utf8')).toContain('"name": "other-mail-postfix"');
  });

  it('exits non-zero with the config error and synthesizes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailstack-config-'));
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, 'hostname: mail.example.test\ndomains: [example.test]\nmailboxes:\n  - address: "bob@"\n    passwordHash: x\n');
    const r = cdktfSynth({ MAILSTACK_CONFIG: config });
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(`${config}: invalid mailstack configuration`);
    expect(r.output).toContain('mailboxes[0].address: "bob@" is not an email address');
    expect(() => readFileSync(join(r.out, 'stacks', 'mailstack', 'cdk.tf.json'))).toThrow();
  });
});
