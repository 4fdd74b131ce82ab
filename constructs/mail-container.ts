import { Container, ContainerUpload } from '@cdktf/provider-docker/lib/container';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { Volume } from '@cdktf/provider-docker/lib/volume';
import { Lazy } from 'cdktf';
import { Construct } from 'constructs';
import { CONTAINER_PORTS, MailService } from '../config/model';

/** With IPv6 on, ports bound to every (or the loopback) IPv4 address are bound to the IPv6 one too. */
const IPV6_TWIN: Readonly<Record<string, string>> = { '0.0.0.0': '::', '127.0.0.1': '::1' };

/** A file put into a container before it starts. */
export interface MailFile {
  readonly path: string;
  readonly content: string;
  /** Octal mode. @default '0644' */
  readonly permissions?: string;
}

export interface MailContainerOptions {
  readonly name: string;
  readonly role: ContainerRole;
  readonly namePrefix: string;
  readonly imageId: string;
  readonly hostname: string;
  readonly networkName: string;
  /** Host port per service this container serves; services left out are not published. */
  readonly ports: Partial<Record<MailService, number>>;
  /** More ports published on the same number inside and out. @default [] */
  readonly extraPorts?: readonly number[];
  readonly bindAddress: string;
  /** Also publish every port on [::] (bindAddress 0.0.0.0) or [::1] (127.0.0.1). @default false */
  readonly publishIpv6?: boolean;
  /** Run in the host's network stack: no network, nothing published, no hostname of its own. @default false */
  readonly hostNetwork?: boolean;
  /** Environment variables, NAME=value. @default [] */
  readonly env?: readonly string[];
  readonly volumes: readonly { readonly volume: Volume; readonly containerPath: string; readonly readOnly?: boolean }[];
  /** A function when the list is only known at synth time (files per domain added later). */
  readonly files: readonly MailFile[] | (() => readonly MailFile[]);
  readonly dependsOn?: Construct[];
  readonly provider?: DockerProvider;
}

/** What each of the stack's containers is, as its org.mailstack.service label says. */
export type ContainerRole = 'postfix' | 'dovecot' | 'opendkim' | 'directory';

/**
 * What every container of the stack has: restarted unless stopped, created only
 * once healthy (Terraform waits), logs as json-file, labelled with its stack and role.
 */
export function managedContainer(namePrefix: string, role: ContainerRole) {
  return {
    restart: 'unless-stopped',
    mustRun: true,
    wait: true,
    waitTimeout: 120,
    logDriver: 'json-file',
    labels: [
      { label: 'org.mailstack.stack', value: namePrefix },
      { label: 'org.mailstack.service', value: role },
    ],
  };
}

/**
 * The `docker_container` both daemons run in: configuration uploaded before
 * start, health-checked, restarted unless stopped, logs rotated, and
 * Terraform waits for it to be healthy.
 */
export function mailContainer(scope: Construct, id: string, o: MailContainerOptions): Container {
  const toUpload = (files: readonly MailFile[]): ContainerUpload[] => files.map((f) => ({ file: f.path, content: f.content, permissions: f.permissions ?? '0644' }));
  const files = o.files;
  // Produced blocks are not renamed by cdktf: their keys are already Terraform's (file, content, permissions).
  const upload = typeof files === 'function' ? (Lazy.anyValue({ produce: () => toUpload(files()) }) as unknown as ContainerUpload[]) : toUpload(files);
  const published: [number, number][] = Object.entries(o.ports)
    .filter(([, external]) => external !== undefined)
    .sort(([a], [b]) => CONTAINER_PORTS[a as MailService] - CONTAINER_PORTS[b as MailService])
    .map(([service, external]): [number, number] => [CONTAINER_PORTS[service as MailService], external!])
    .concat([...(o.extraPorts ?? [])].sort((a, b) => a - b).map((port): [number, number] => [port, port]));
  const ipv6Twin = o.publishIpv6 ? IPV6_TWIN[o.bindAddress] : undefined;
  const addresses = ipv6Twin ? [o.bindAddress, ipv6Twin] : [o.bindAddress];
  return new Container(scope, id, {
    provider: o.provider,
    name: o.name,
    image: o.imageId,
    // Docker refuses a hostname of its own in the host's network stack. The kernel takes at most 64
    // characters; the daemons are given the full name in their own config, so the first label does then.
    hostname: o.hostNetwork ? undefined : o.hostname.length <= 64 ? o.hostname : o.hostname.split('.')[0],
    ...managedContainer(o.namePrefix, o.role),
    ...(o.hostNetwork
      ? { networkMode: 'host' }
      : {
          networksAdvanced: [{ name: o.networkName }],
          ports: published.flatMap(([internal, external]) => addresses.map((ip) => ({ internal, external, ip, protocol: 'tcp' }))),
        }),
    env: o.env && o.env.length > 0 ? [...o.env] : undefined,
    volumes: o.volumes.map((v) => ({ volumeName: v.volume.name, containerPath: v.containerPath, ...(v.readOnly ? { readOnly: true } : {}) })),
    upload,
    healthcheck: { test: ['CMD', '/usr/local/bin/healthcheck.sh'], interval: '5s', timeout: '5s', startPeriod: '30s', retries: 3 },
    logOpts: { 'max-size': '10m', 'max-file': '5' },
    dependsOn: o.dependsOn as never,
  });
}
