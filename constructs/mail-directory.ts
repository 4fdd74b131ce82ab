import { posix } from 'node:path';
import { Container } from '@cdktf/provider-docker/lib/container';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { Construct } from 'constructs';
import { DIRECTORY_PUBLISH_DIR, DIRECTORY_UPLOAD_DIR, DOVECOT_PASSWD_FILE, POSTFIX_MAPS, SOCKET_DIR } from '../render/layout';
import { MailSystemModel } from '../render/model';
import { renderPasswdFile } from '../render/dovecot-passwd-file';
import { renderSenderLoginMaps, renderVirtualAliasMaps, renderVirtualMailboxDomains, renderVirtualMailboxMaps } from '../render/postfix-maps';
import { managedContainer } from './mail-container';
import { MailVolumes } from './mail-volumes';
import { renderedFile } from './terraform-literal';

export interface MailDirectoryProps {
  readonly system: { readonly model: MailSystemModel };
  readonly namePrefix: string;
  readonly volumes: MailVolumes;
  /** The dovecot image: its shell, and its dovecot group, which must read the passwd-file. */
  readonly dovecotImageId: string;
  /** @default the stack's default docker provider */
  readonly provider?: DockerProvider;
}

/**
 * The mail directory as a container of its own: domains, mailboxes, aliases
 * and logins uploaded into it, published by it into the daemons' directory
 * volumes. A mailbox or alias change replaces this container alone: dovecot
 * re-reads its passwd-file on change, postfix reloads its maps, and the
 * container is healthy only once postfix has.
 */
export class MailDirectory extends Construct {
  public readonly container: Container;

  constructor(scope: Construct, id: string, props: MailDirectoryProps) {
    super(scope, id);
    const render = (f: (m: MailSystemModel) => string) => renderedFile(() => props.system.model, f);
    const postfixMaps = [
      [POSTFIX_MAPS.virtualMailboxDomains, renderVirtualMailboxDomains],
      [POSTFIX_MAPS.virtualMailboxMaps, renderVirtualMailboxMaps],
      [POSTFIX_MAPS.virtualAliasMaps, renderVirtualAliasMaps],
      [POSTFIX_MAPS.senderLoginMaps, renderSenderLoginMaps],
    ] as const;
    this.container = new Container(this, 'Resource', {
      provider: props.provider,
      name: `${props.namePrefix}-directory`,
      image: props.dovecotImageId,
      entrypoint: ['/usr/local/bin/directory.sh'],
      command: ['serve'],
      // It talks to nobody: files in, files out.
      networkMode: 'none',
      ...managedContainer(props.namePrefix, 'directory'),
      volumes: [
        { volumeName: props.volumes.directoryPostfix.name, containerPath: `${DIRECTORY_PUBLISH_DIR}/postfix` },
        { volumeName: props.volumes.directoryDovecot.name, containerPath: `${DIRECTORY_PUBLISH_DIR}/dovecot` },
        { volumeName: props.volumes.sockets.name, containerPath: SOCKET_DIR, readOnly: true },
      ],
      upload: [
        ...postfixMaps.map(([path, f]) => ({ file: `${DIRECTORY_UPLOAD_DIR}/postfix/${posix.basename(path)}`, content: render(f), permissions: '0644' })),
        { file: `${DIRECTORY_UPLOAD_DIR}/dovecot/${posix.basename(DOVECOT_PASSWD_FILE)}`, content: render(renderPasswdFile), permissions: '0600' },
      ],
      healthcheck: { test: ['CMD', '/usr/local/bin/directory.sh', 'check'], interval: '5s', timeout: '5s', startPeriod: '60s', retries: 3 },
      // It logs a line per start.
      logOpts: { 'max-size': '1m', 'max-file': '2' },
    });
  }
}
