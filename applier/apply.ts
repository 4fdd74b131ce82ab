/**
 * The local applier: puts a synthesized cdk.tf.json on a Docker engine the
 * way `terraform apply` with the docker and tls providers would (and DNS
 * records on an RFC 2136 server the way the dns provider would), for machines
 * where Terraform cannot download its providers. Resources are ordered by
 * their references, each is created from its resolved configuration, and a
 * state file remembers what was made from what, so a second run with the same
 * stack changes nothing and a changed one replaces only what changed (and
 * what depends on it).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import Docker from 'dockerode';
import { checkAttributes, UnsupportedError } from './attributes';
import { connectionOf, DOCKER_PROVIDER_SETTINGS, DockerConnection, dockerFor } from './docker-connection';
import { ExpressionError, referencesIn, resolveValue } from './expressions';
import { dockerContainer } from './resources/docker-container';
import { dockerImage } from './resources/docker-image';
import { dockerNetwork } from './resources/docker-network';
import { dockerVolume } from './resources/docker-volume';
import { DNS_PROVIDER_ATTRIBUTES } from './dns/client';
import { dnsAaaaRecordSet, dnsARecordSet, dnsCnameRecord, dnsMxRecordSet, dnsSrvRecordSet, dnsTxtRecordSet } from './resources/dns-records';
import { ApplyContext, ResourceHandler, StackProviders } from './resources/handler';
import { tlsPrivateKey, tlsSelfSignedCert } from './resources/tls';
import { readState, StateEntry, writeState } from './state';

export const HANDLERS: Readonly<Record<string, ResourceHandler>> = {
  docker_network: dockerNetwork,
  docker_volume: dockerVolume,
  docker_image: dockerImage,
  docker_container: dockerContainer,
  tls_private_key: tlsPrivateKey,
  tls_self_signed_cert: tlsSelfSignedCert,
  dns_a_record_set: dnsARecordSet,
  dns_aaaa_record_set: dnsAaaaRecordSet,
  dns_mx_record_set: dnsMxRecordSet,
  dns_txt_record_set: dnsTxtRecordSet,
  dns_srv_record_set: dnsSrvRecordSet,
  dns_cname_record: dnsCnameRecord,
};

/** The provider settings the applier understands. */
const PROVIDERS: Record<string, readonly string[]> = { docker: DOCKER_PROVIDER_SETTINGS, tls: [], dns: ['update'] };

export { dockerFor } from './docker-connection';
export type { DockerConnection } from './docker-connection';

export interface StackResource {
  /** `type.name`, as Terraform addresses it. */
  readonly address: string;
  readonly type: string;
  readonly config: Record<string, unknown>;
  /** Addresses this one references or depends on. */
  readonly dependsOn: readonly string[];
  /** The subset it takes values from (not depends_on alone): when one of these is re-created, so is it. */
  readonly references: readonly string[];
  readonly preventDestroy: boolean;
}

export interface LoadedStack {
  readonly file: string;
  readonly dir: string;
  /** The stack's outputs, evaluated after an apply as Terraform does. */
  readonly outputs: Readonly<Record<string, { readonly value: unknown; readonly sensitive?: boolean }>>;
  /** Input variables: their values come from TF_VAR_<name>, as Terraform takes them, or their default. */
  readonly variables: Readonly<Record<string, { readonly default?: unknown; readonly sensitive?: boolean }>>;
  /** In dependency order: everything a resource references comes before it. */
  readonly resources: readonly StackResource[];
  readonly dockerHost: string;
  /** How to reach the engine: the docker provider's settings, PEM files already read (as Terraform does at plan time). */
  readonly docker: DockerConnection;
  /** Each provider's settings block, as declared (the dns handlers read `dns.update` from it). */
  readonly providers: StackProviders;
}

/** Reads cdk.tf.json and refuses anything it could not apply faithfully. */
export function loadStack(file: string): LoadedStack {
  const json = JSON.parse(readFileSync(file, 'utf8')) as {
    resource?: Record<string, Record<string, Record<string, unknown>>>;
    provider?: Record<string, Record<string, unknown>[] | Record<string, unknown>>;
    data?: unknown;
    module?: unknown;
    variable?: Record<string, { default?: unknown; sensitive?: boolean; type?: string; description?: string; nullable?: boolean }>;
    output?: Record<string, { value: unknown; sensitive?: boolean; description?: string }>;
  };
  if (json.data) throw new UnsupportedError(`${file}: data sources are not supported by the local applier`);
  if (json.module) throw new UnsupportedError(`${file}: modules are not supported by the local applier`);
  let docker: DockerConnection = { host: 'unix:///var/run/docker.sock' };
  const providers: Record<string, Record<string, unknown>> = {};
  for (const [name, declared] of Object.entries(json.provider ?? {})) {
    if (!(name in PROVIDERS)) throw new UnsupportedError(`${file}: the provider ${name} is not supported by the local applier`);
    // cdktf writes a list of one; Terraform's JSON syntax also takes the block as an object.
    const configs = Array.isArray(declared) ? declared : [declared];
    if (configs.length !== 1) throw new UnsupportedError(`${file}: provider aliases (${name}) are not supported by the local applier`);
    for (const key of Object.keys(configs[0])) {
      if (!PROVIDERS[name].includes(key)) throw new UnsupportedError(`${file}: provider ${name}: the setting ${key} is not supported by the local applier`);
    }
    if (name === 'dns') checkAttributes(`${file}: provider dns`, configs[0], DNS_PROVIDER_ATTRIBUTES);
    if (name === 'docker') docker = connectionOf(providerSettings(file, configs[0]));
    providers[name] = configs[0];
  }
  const resources: StackResource[] = [];
  for (const [type, byName] of Object.entries(json.resource ?? {})) {
    const handler = HANDLERS[type];
    if (!handler) throw new UnsupportedError(`${file}: the resource type ${type} is not supported by the local applier`);
    for (const [name, config] of Object.entries(byName)) {
      const address = `${type}.${name}`;
      checkAttributes(address, config, handler.attributes);
      const { depends_on: explicit, lifecycle } = config as { depends_on?: string[]; lifecycle?: { prevent_destroy?: boolean } };
      const body = withoutMeta(config);
      // Variables are inputs, not resources: nothing to order them by, but they must be declared.
      const references = [...new Set([...referencesIn(body), ...(explicit ?? [])])];
      for (const v of references.filter((d) => d.startsWith('var.'))) {
        if (!json.variable?.[v.slice(4)]) throw new UnsupportedError(`${file}: ${address} references ${v}, which the stack does not declare`);
      }
      const dependsOn = references.filter((d) => !d.startsWith('var.')).sort();
      const valueReferences = [...new Set(referencesIn(body))].filter((d) => !d.startsWith('var.')).sort();
      resources.push({ address, type, config: body, dependsOn, references: valueReferences, preventDestroy: Boolean(lifecycle?.prevent_destroy) });
    }
  }
  const variables = Object.fromEntries(Object.entries(json.variable ?? {}).map(([name, v]) => [name, { default: v.default, sensitive: v.sensitive }]));
  const outputs = json.output ?? {};
  for (const [name, o] of Object.entries(outputs)) {
    for (const d of referencesIn(o.value)) {
      if (!d.startsWith('var.') && !resources.some((r) => r.address === d)) throw new UnsupportedError(`${file}: output ${name} references ${d}, which the stack does not declare`);
    }
  }
  return { file, dir: dirname(file), resources: order(resources, file), dockerHost: docker.host, docker, providers, variables, outputs };
}

/** The docker provider's block evaluated (file(), sensitive()); a provider cannot take values from resources. */
function providerSettings(file: string, block: Record<string, unknown>): Record<string, unknown> {
  try {
    return resolveValue(block, (path) => {
      throw new ExpressionError(`${path.join('.')}: provider settings that reference other objects are not supported by the local applier`);
    }) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof ExpressionError) throw new ExpressionError(`${file}: provider docker: ${err.message}`);
    throw err;
  }
}

function withoutMeta(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([k]) => !['//', 'provider', 'depends_on', 'lifecycle'].includes(k)));
}

/** Kahn's algorithm, ties broken by address so the order is the same on every run. */
function order(resources: StackResource[], file: string): StackResource[] {
  const byAddress = new Map(resources.map((r) => [r.address, r]));
  for (const r of resources) {
    for (const d of r.dependsOn) if (!byAddress.has(d)) throw new UnsupportedError(`${file}: ${r.address} references ${d}, which the stack does not declare`);
  }
  const done = new Set<string>();
  const out: StackResource[] = [];
  while (out.length < resources.length) {
    const ready = resources.filter((r) => !done.has(r.address) && r.dependsOn.every((d) => done.has(d))).sort((a, b) => a.address.localeCompare(b.address));
    if (ready.length === 0) throw new UnsupportedError(`${file}: the resources reference each other in a cycle`);
    for (const r of ready) {
      done.add(r.address);
      out.push(r);
    }
  }
  return out;
}

export type Action = 'create' | 'replace' | 'keep';

export interface PlannedResource {
  readonly resource: StackResource;
  readonly action: Action;
  /** Why it is replaced, for the operator. */
  readonly reason?: string;
}

export interface ApplyOptions {
  readonly stateFile: string;
  readonly log?: (line: string) => void;
  /** @default dockerFor(stack.docker) */
  readonly docker?: Docker;
}

export interface ApplyResult {
  readonly plan: readonly PlannedResource[];
  /** Attributes of every resource, by address. */
  readonly outputs: Readonly<Record<string, Record<string, unknown>>>;
  /** The stack's own outputs (`output` blocks), evaluated. */
  readonly stackOutputs: Readonly<Record<string, unknown>>;
}

const GONE = 'it is gone or stopped';

const hashOf = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/**
 * Brings the engine to what the stack declares. Nothing declared with
 * prevent_destroy is ever removed or replaced: such a plan is refused before
 * anything is touched.
 */
export async function applyStack(stack: LoadedStack, options: ApplyOptions): Promise<ApplyResult> {
  const log = options.log ?? (() => undefined);
  const ctx: ApplyContext = { docker: options.docker ?? dockerFor(stack.docker), stackDir: stack.dir, log, providers: stack.providers };
  const state = readState(options.stateFile);
  const declared = new Set(stack.resources.map((r) => r.address));

  // Plan: what is kept is resolved from state; anything downstream of a change is replaced.
  const known = new Map<string, Record<string, unknown>>();
  // Input variables, as Terraform reads them: TF_VAR_<name>, else the default.
  for (const [name, v] of Object.entries(stack.variables)) {
    const value = process.env[`TF_VAR_${name}`] ?? v.default;
    if (value !== undefined) known.set(`var.${name}`, { value });
  }
  const plan: PlannedResource[] = [];
  const changed = new Set<string>();
  for (const r of stack.resources) {
    const prior = state.resources[r.address];
    // depends_on only orders; a value taken from a re-created resource may change, so that replaces.
    const upstream = r.references.find((d) => changed.has(d));
    let action: Action = prior ? 'replace' : 'create';
    let reason = prior && upstream ? `${upstream} changes` : undefined;
    if (prior && !upstream) {
      const hash = hashOf(resolve(r, known));
      if (hash !== prior.hash) reason = 'its configuration changed';
      else if (!(await HANDLERS[r.type].exists(ctx, prior))) reason = r.type === 'tls_self_signed_cert' ? 'it is due for renewal' : GONE;
      else action = 'keep';
    }
    if (action === 'keep') known.set(r.address, prior.outputs);
    else changed.add(r.address);
    // As Terraform: replacing a prevent_destroy object that still exists is refused (one that is gone is simply made again).
    if (action === 'replace' && r.preventDestroy && reason !== GONE) {
      throw new Error(`${r.address} has lifecycle.prevent_destroy and would be replaced (${reason}): refusing to apply`);
    }
    plan.push({ resource: r, action, reason });
  }
  const orphans = Object.keys(state.resources).filter((a) => !declared.has(a));

  // Destroy what is replaced or no longer declared, dependents first.
  const toDestroy = [...plan.filter((p) => p.action === 'replace').map((p) => p.resource.address).reverse(), ...orphans];
  for (const address of toDestroy) {
    const entry = state.resources[address];
    // A volume no longer declared is let go, not deleted: the data on it is what matters.
    if (entry.type === 'docker_volume' && orphans.includes(address)) {
      log(`  ${address} (${String(entry.outputs.name)}) is no longer declared: kept on the engine, forgotten by the state`);
      delete state.resources[address];
      writeState(options.stateFile, state);
      continue;
    }
    log(`- destroy ${address}`);
    await HANDLERS[entry.type].destroy(ctx, entry);
    delete state.resources[address];
    writeState(options.stateFile, state);
  }

  // Create in dependency order, saving state after each so an interruption loses nothing.
  for (const p of plan) {
    const r = p.resource;
    if (p.action === 'keep') continue;
    const config = resolve(r, known);
    log(`+ ${p.action === 'create' ? 'create ' : 'replace'} ${r.address} (${HANDLERS[r.type].describe(config)})${p.reason ? `: ${p.reason}` : ''}`);
    const outputs = await HANDLERS[r.type].create(ctx, r.address, config);
    known.set(r.address, outputs);
    state.resources[r.address] = { type: r.type, hash: hashOf(config), outputs } satisfies StateEntry;
    writeState(options.stateFile, state);
  }
  const changes = plan.filter((p) => p.action !== 'keep').length;
  log(changes === 0 ? `No changes: ${plan.length} resources are up to date.` : `Applied: ${changes} of ${plan.length} resources created or replaced.`);
  const stackOutputs = Object.fromEntries(
    Object.entries(stack.outputs).map(([name, o]) => [name, resolveValue(o.value, (path) => lookup(path, known))]),
  );
  return { plan, outputs: Object.fromEntries(known), stackOutputs };
}

export interface DestroyOptions extends ApplyOptions {
  /** Also remove what is declared with prevent_destroy (the mail and queue volumes). */
  readonly purge?: boolean;
}

/** Removes what applyStack created, dependents first; prevent_destroy resources stay unless purged. */
export async function destroyStack(stack: LoadedStack, options: DestroyOptions): Promise<{ removed: string[]; kept: string[] }> {
  const log = options.log ?? (() => undefined);
  const ctx: ApplyContext = { docker: options.docker ?? dockerFor(stack.docker), stackDir: stack.dir, log, providers: stack.providers };
  const state = readState(options.stateFile);
  const protectedAddresses = new Set(stack.resources.filter((r) => r.preventDestroy).map((r) => r.address));
  const inOrder = [...stack.resources.map((r) => r.address).reverse(), ...Object.keys(state.resources).filter((a) => !stack.resources.some((r) => r.address === a))];
  const removed: string[] = [];
  const kept: string[] = [];
  for (const address of inOrder) {
    const entry = state.resources[address];
    if (!entry) continue;
    if (protectedAddresses.has(address) && !options.purge) {
      kept.push(address);
      continue;
    }
    log(`- destroy ${address}`);
    await HANDLERS[entry.type].destroy(ctx, entry);
    delete state.resources[address];
    removed.push(address);
    writeState(options.stateFile, state);
  }
  if (kept.length > 0) log(`Kept (prevent_destroy; --purge removes them): ${kept.join(', ')}`);
  return { removed, kept };
}

function resolve(r: StackResource, known: Map<string, Record<string, unknown>>): Record<string, unknown> {
  try {
    return resolveValue(r.config, (path) => lookup(path, known)) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof ExpressionError) throw new ExpressionError(`${r.address}: ${err.message}`);
    throw err;
  }
}

function lookup(path: string[], known: Map<string, Record<string, unknown>>): unknown {
  const [type, name, ...rest] = path;
  if (type === 'var') {
    if (rest.length > 0) throw new ExpressionError(`${path.join('.')}: attributes of variables are not supported by the local applier`);
    if (!known.has(`var.${name}`)) throw new ExpressionError(`the variable ${name} has no value: set TF_VAR_${name}`);
    return known.get(`var.${name}`)!.value;
  }
  const outputs = known.get(`${type}.${name}`);
  if (!outputs) throw new ExpressionError(`${path.join('.')} is not known yet`);
  let value: unknown = outputs;
  for (const key of rest) {
    if (value === null || typeof value !== 'object' || !(key in value)) {
      throw new ExpressionError(`${path.join('.')}: the attribute ${key} is not one the local applier provides for ${type}`);
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
