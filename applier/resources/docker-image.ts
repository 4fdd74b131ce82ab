import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { ImageBuildOptions } from 'dockerode';
import { isNotFound, ResourceHandler } from './handler';

interface BuildBlock {
  context: string;
  dockerfile?: string;
  build_args?: Record<string, string>;
  label?: Record<string, string>;
  tag?: string[];
  target?: string;
  no_cache?: boolean;
  remove?: boolean;
  pull_parent?: boolean;
}

/**
 * docker_image: built from `build.context` when a build block is given (as
 * the provider does), else taken from the engine or pulled. An image that
 * already carries the name is reused: the stack's names hold the context hash.
 */
export const dockerImage: ResourceHandler = {
  attributes: {
    name: true,
    keep_locally: true,
    force_remove: true,
    triggers: true,
    build: { context: true, dockerfile: true, build_args: true, label: true, tag: true, target: true, no_cache: true, remove: true, pull_parent: true },
  },
  describe: (c) => String(c.name),
  async create(ctx, _address, c) {
    const name = String(c.name);
    const build = (Array.isArray(c.build) ? c.build[0] : c.build) as BuildBlock | undefined;
    const existing = await inspect(ctx.docker, name);
    if (existing && !build?.no_cache) return outputs(name, existing.Id, c);
    if (build) {
      const context = isAbsolute(build.context) ? build.context : join(ctx.stackDir, build.context);
      ctx.log(`  building ${name} from ${build.context}`);
      const stream = await ctx.docker.buildImage(
        { context, src: filesUnder(context) },
        {
          t: [name, ...(build.tag ?? [])],
          dockerfile: build.dockerfile ?? 'Dockerfile',
          buildargs: build.build_args ?? {},
          labels: build.label ?? {},
          target: build.target ?? '',
          nocache: Boolean(build.no_cache),
          rm: build.remove ?? true,
          pull: Boolean(build.pull_parent),
        } as unknown as ImageBuildOptions,
      );
      await new Promise<void>((resolve, reject) =>
        ctx.docker.modem.followProgress(
          stream,
          (err: Error | null, events: { error?: string }[]) => {
            const failed = err?.message ?? events.find((e) => e.error)?.error;
            if (failed) reject(new Error(`building ${name} failed: ${failed.trim()}`));
            else resolve();
          },
          (event: { stream?: string }) => {
            const line = event.stream?.trim();
            if (line && /^Step \d+\/\d+ :/.test(line)) ctx.log(`    ${line.length > 110 ? `${line.slice(0, 107)}...` : line}`);
          },
        ),
      );
    } else {
      ctx.log(`  pulling ${name}`);
      const stream = (await ctx.docker.pull(name)) as unknown as NodeJS.ReadableStream;
      await new Promise<void>((resolve, reject) => ctx.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
    }
    const built = await inspect(ctx.docker, name);
    if (!built) throw new Error(`image ${name} is not on the engine after its build`);
    return outputs(name, built.Id, c);
  },
  async exists(ctx, entry) {
    return (await inspect(ctx.docker, String(entry.outputs.image_id))) !== undefined;
  },
  async destroy(ctx, entry) {
    if (entry.outputs.keep_locally) return;
    try {
      await ctx.docker.getImage(String(entry.outputs.name)).remove({ force: Boolean(entry.outputs.force_remove) });
    } catch (err) {
      // In use by another container, or gone: the provider leaves it too.
      if (!isNotFound(err) && (err as { statusCode?: number }).statusCode !== 409) throw err;
    }
  },
};

async function inspect(docker: import('dockerode'), ref: string) {
  try {
    return await docker.getImage(ref).inspect();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function outputs(name: string, imageId: string, c: Record<string, unknown>) {
  return { id: `${imageId}${name}`, image_id: imageId, name, keep_locally: Boolean(c.keep_locally), force_remove: Boolean(c.force_remove) };
}

/** Every file below the context, relative to it: what the engine receives as the build context. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix))
    .sort()
    .flatMap((name) => {
      const rel = prefix ? `${prefix}/${name}` : name;
      return statSync(join(dir, rel)).isDirectory() ? filesUnder(dir, rel) : [rel];
    });
}
