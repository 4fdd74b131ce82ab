/**
 * The applier's state: what it created, the hash of the configuration each
 * object was created from, and the attributes other resources reference
 * (including generated keys, so the file is written 0600 like terraform.tfstate).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface StateEntry {
  readonly type: string;
  /** Hash of the resolved configuration the object was created from. */
  readonly hash: string;
  /** Attributes other resources may reference (id, name, image_id, cert_pem, …). */
  readonly outputs: Record<string, unknown>;
}

export interface State {
  readonly version: 1;
  resources: Record<string, StateEntry>;
}

export function readState(path: string): State {
  try {
    const state = JSON.parse(readFileSync(path, 'utf8')) as State;
    if (state.version !== 1) throw new Error(`${path}: unknown state version ${String(state.version)}`);
    return state;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, resources: {} };
    throw err;
  }
}

/** Written whole to a temporary file and renamed, so an interrupted run never leaves half a state. */
export function writeState(path: string, state: State): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, path);
}
