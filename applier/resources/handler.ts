import Docker from 'dockerode';
import { AttributeSpec } from '../attributes';
import { StateEntry } from '../state';

export interface ApplyContext {
  readonly docker: Docker;
  /** The directory holding cdk.tf.json: relative paths (build contexts) start here. */
  readonly stackDir: string;
  /** Progress for the operator. */
  readonly log: (line: string) => void;
  /** Each provider's settings block from the stack (`provider.<name>`), for handlers that talk to more than the engine (dns). */
  readonly providers?: StackProviders;
}

/** The one configuration block of each provider the stack declares, by provider name. */
export type StackProviders = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** One Terraform resource type, as the applier puts it on the engine. */
export interface ResourceHandler {
  readonly attributes: AttributeSpec;
  /** Creates the object from its resolved configuration; returns the attributes others may reference. */
  create(ctx: ApplyContext, address: string, config: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Whether the object recorded in state is still there as it was created (and, for containers, running). */
  exists(ctx: ApplyContext, entry: StateEntry): Promise<boolean>;
  /** Removes the object; absent already is fine. */
  destroy(ctx: ApplyContext, entry: StateEntry): Promise<void>;
  /** A short human name for progress lines. */
  describe(config: Record<string, unknown>): string;
}

/** Turns the provider's `labels` blocks into Docker's label map. */
export function labelMap(labels: unknown): Record<string, string> {
  return Object.fromEntries(((labels as { label: string; value: string }[] | undefined) ?? []).map((l) => [l.label, l.value]));
}

/** Docker answers 404 for an object that is not there. */
export const isNotFound = (err: unknown) => (err as { statusCode?: number }).statusCode === 404;

/** Whether an engine object is there: its inspect answers, or says 404. */
export async function isPresent(inspect: () => Promise<unknown>): Promise<boolean> {
  try {
    await inspect();
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Removes an engine object; one that is already gone is fine. */
export async function removeIfPresent(remove: () => Promise<unknown>): Promise<void> {
  try {
    await remove();
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
