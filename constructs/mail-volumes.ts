import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { Volume } from '@cdktf/provider-docker/lib/volume';
import { Construct } from 'constructs';

export interface MailVolumesProps {
  /** Prefix of the volume names. */
  readonly namePrefix: string;
  /**
   * Keep the mail and queue volumes when the stack is destroyed or a change
   * would replace them (Terraform's prevent_destroy): they hold people's mail.
   * @default true
   */
  readonly retain?: boolean;
  /** @default the stack's default docker provider */
  readonly provider?: DockerProvider;
}

/**
 * The stack's volumes. Their construct ids are a contract: renaming one would
 * replace the volume, and for mail that means data loss.
 */
export class MailVolumes extends Construct {
  /** Maildirs, written by dovecot. */
  public readonly mail: Volume;
  /** Postfix's queue: accepted mail not yet delivered. */
  public readonly queue: Volume;
  /** The unix sockets dovecot offers postfix (LMTP, SASL); no data. */
  public readonly sockets: Volume;
  /** Postfix's maps of the mail directory, as the directory container publishes them; made anew from the config. */
  public readonly directoryPostfix: Volume;
  /** Dovecot's passwd-file, likewise. */
  public readonly directoryDovecot: Volume;

  constructor(scope: Construct, id: string, props: MailVolumesProps) {
    super(scope, id);
    const retain = props.retain ?? true;
    const volume = (vid: string, suffix: string, stateful: boolean) =>
      new Volume(this, vid, {
        provider: props.provider,
        name: `${props.namePrefix}-${suffix}`,
        labels: [
          { label: 'org.mailstack.stack', value: props.namePrefix },
          { label: 'org.mailstack.volume', value: suffix },
        ],
        lifecycle: stateful && retain ? { preventDestroy: true } : undefined,
      });
    this.mail = volume('Mail', 'mail', true);
    this.queue = volume('Queue', 'queue', true);
    this.sockets = volume('Sockets', 'sockets', false);
    this.directoryPostfix = volume('DirectoryPostfix', 'directory-postfix', false);
    this.directoryDovecot = volume('DirectoryDovecot', 'directory-dovecot', false);
  }
}
