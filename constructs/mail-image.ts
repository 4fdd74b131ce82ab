import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Image } from '@cdktf/provider-docker/lib/image';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { AssetType, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';

/** The images shipped with this module, by name. */
export const IMAGES_DIR = join(__dirname, '..', 'images');

export interface MailImageProps {
  /** Directory of the image under `images/` (e.g. `postfix`). */
  readonly imageName: 'postfix' | 'dovecot' | 'opendkim';
  /** Prefix of the image name. */
  readonly namePrefix: string;
  /**
   * Base image passed as the BASE_IMAGE build argument.
   * @default 'debian:bookworm-slim'
   */
  readonly baseImage?: string;
  /** @default the stack's default docker provider */
  readonly provider?: DockerProvider;
}

/**
 * A `docker_image` built from one of the module's image directories, copied
 * next to the synthesized stack as a TerraformAsset so the build context
 * resolves wherever the module is installed. The tag is a hash of the context:
 * an unchanged Dockerfile never rebuilds, a changed one always does.
 */
export class MailImage extends Construct {
  public readonly resource: Image;
  /** The image id, what containers must reference (a name:tag would replace them on every apply). */
  public readonly imageId: string;
  /** Hash of the build context (names, modes and contents of its files) and base image. */
  public readonly contextHash: string;

  constructor(scope: Construct, id: string, props: MailImageProps) {
    super(scope, id);
    const baseImage = props.baseImage ?? 'debian:bookworm-slim';
    if (!/^[a-z0-9][a-z0-9._\/:@-]*$/.test(baseImage)) throw new Error(`baseImage "${baseImage}" is not an image reference`);
    const dir = join(IMAGES_DIR, props.imageName);
    this.contextHash = hashContext(dir, baseImage);
    const context = new TerraformAsset(this, 'Context', { path: dir, type: AssetType.DIRECTORY, assetHash: this.contextHash });
    this.resource = new Image(this, 'Resource', {
      provider: props.provider,
      name: `${props.namePrefix}-${props.imageName}:${this.contextHash}`,
      keepLocally: true,
      buildAttribute: {
        context: context.path,
        buildArgs: { BASE_IMAGE: baseImage },
        label: { 'org.mailstack.image': props.imageName },
      },
    });
    this.imageId = this.resource.imageId;
  }
}

export function hashContext(dir: string, baseImage: string): string {
  const hash = createHash('sha256').update(`base=${baseImage}\n`);
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else hash.update(`${relative(dir, path)}\0${stat.mode & 0o111 ? 'x' : '-'}\0`).update(readFileSync(path)).update('\0');
    }
  };
  walk(dir);
  return hash.digest('hex').slice(0, 16);
}
