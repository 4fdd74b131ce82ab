/**
 * Test helpers on the local Docker engine: build the module's images once
 * (tagged by the same context hash the stack uses, so unchanged images are
 * reused across runs) and run a command in a throwaway container with files
 * put in first, as the stack's `upload` blocks do.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Docker from 'dockerode';
import { pack } from 'tar-stream';
import { hashContext, IMAGES_DIR } from '../../constructs/mail-image';

export const docker = new Docker();
export const BASE_IMAGE = process.env.MAILSTACK_BASE_IMAGE ?? 'debian:bookworm-slim';

/** The module's own images, tagged by the same context hash the stack uses. */
export async function ensureImage(name: 'postfix' | 'dovecot' | 'opendkim'): Promise<string> {
  const tag = await ensureTestImage(join(IMAGES_DIR, name), `mailstack-test-${name}`);
  return (await docker.getImage(tag).inspect()).Id;
}

/** Builds an image from a directory unless one of the same context is there; returns its tag. */
export async function ensureTestImage(dir: string, repository: string): Promise<string> {
  const tag = `${repository}:${hashContext(dir, BASE_IMAGE)}`;
  try {
    await docker.getImage(tag).inspect();
    return tag;
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
  return tag;
}

/** Runs a command in a running container; stdout and stderr separated. */
export async function execIn(container: string, cmd: string[]): Promise<RunResult> {
  const e = await docker.getContainer(container).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({ hijack: true, stdin: false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (into: Buffer[]) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        into.push(chunk);
        done();
      },
    });
  await new Promise<void>((resolve, reject) => {
    docker.modem.demuxStream(stream, sink(out), sink(err));
    stream.on('end', () => resolve());
    stream.on('error', reject);
  });
  const { ExitCode } = await e.inspect();
  return { exitCode: ExitCode ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
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
  /** A Docker network to run in. @default the engine's default bridge */
  network?: string,
): Promise<RunResult> {
  const container = await docker.createContainer({ Image: imageId, Cmd: cmd, Entrypoint: entrypoint, Hostname: 'mail.example.test', HostConfig: network ? { NetworkMode: network } : undefined });
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
