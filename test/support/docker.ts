/**
 * Test helpers on the local Docker engine: build the module's images once
 * (tagged by the same context hash the stack uses, so unchanged images are
 * reused across runs) and run a command in a throwaway container with files
 * put in first, as the stack's `upload` blocks do.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { pack } from 'tar-stream';
import { hashContext, IMAGES_DIR } from '../../constructs/mail-image';

export const docker = new Docker();
export const BASE_IMAGE = process.env.MAILSTACK_BASE_IMAGE ?? 'debian:bookworm-slim';

export async function ensureImage(name: 'postfix' | 'dovecot'): Promise<string> {
  const dir = join(IMAGES_DIR, name);
  const tag = `mailstack-test-${name}:${hashContext(dir, BASE_IMAGE)}`;
  try {
    return (await docker.getImage(tag).inspect()).Id;
  } catch {
    // not built yet
  }
  const stream = await docker.buildImage({ context: dir, src: readdirSync(dir) }, { t: tag, buildargs: { BASE_IMAGE } });
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, output: { error?: string }[]) => {
      const failed = err ?? output.find((o) => o.error);
      if (failed) reject(new Error(`building ${tag} failed: ${err?.message ?? (failed as { error: string }).error}`));
      else resolve();
    }),
  );
  return (await docker.getImage(tag).inspect()).Id;
}

export interface FileToPut {
  readonly content: string;
  /** @default 0o644 */
  readonly mode?: number;
}

export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cmd` through the image's own entrypoint (or `entrypoint`) after putting `files` in. */
export async function runInImage(
  imageId: string,
  cmd: string[],
  files: Readonly<Record<string, FileToPut>> = {},
  entrypoint?: string[],
): Promise<RunResult> {
  const container = await docker.createContainer({ Image: imageId, Cmd: cmd, Entrypoint: entrypoint, Hostname: 'mail.example.test' });
  try {
    const tar = pack();
    for (const [path, f] of Object.entries(files)) tar.entry({ name: path.replace(/^\//, ''), mode: f.mode ?? 0o644 }, f.content);
    tar.finalize();
    await container.putArchive(tar as unknown as NodeJS.ReadableStream, { path: '/' });
    await container.start();
    const { StatusCode } = await container.wait();
    const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    return { exitCode: StatusCode, ...demux(logs) };
  } finally {
    await container.remove({ force: true });
  }
}

/** Splits Docker's multiplexed log stream (8-byte frame headers) into stdout and stderr. */
function demux(buffer: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(i + 4);
    (buffer[i] === 2 ? err : out).push(buffer.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}
