/**
 * Which attributes of each resource type the applier implements. A key in the
 * stack that is not listed here is refused: the applier never silently skips
 * something the stack declares.
 */

/** `true`: a leaf the applier handles; an object: a block (or list of blocks) with its own keys. */
export type AttributeSpec = { readonly [key: string]: true | AttributeSpec };

/** Keys every resource may carry: cdktf's metadata, the provider alias, ordering and lifecycle. */
const META = new Set(['//', 'provider', 'depends_on', 'lifecycle', 'count', 'for_each']);

export class UnsupportedError extends Error {}

export function checkAttributes(address: string, config: Record<string, unknown>, spec: AttributeSpec): void {
  const walk = (value: unknown, s: AttributeSpec, path: string) => {
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) {
      if (!item || typeof item !== 'object') throw new UnsupportedError(`${address}: ${path} must be a block`);
      for (const [key, v] of Object.entries(item)) {
        const sub = s[key];
        if (sub === undefined) throw new UnsupportedError(`${address}: the attribute ${path ? `${path}.` : ''}${key} is not supported by the local applier`);
        if (sub !== true) walk(v, sub, path ? `${path}.${key}` : key);
      }
    }
  };
  const body = Object.fromEntries(Object.entries(config).filter(([k]) => !META.has(k)));
  if ('count' in config || 'for_each' in config) throw new UnsupportedError(`${address}: count and for_each are not supported by the local applier`);
  const lifecycle = config.lifecycle as Record<string, unknown> | undefined;
  for (const key of Object.keys(lifecycle ?? {})) {
    if (key !== 'prevent_destroy') throw new UnsupportedError(`${address}: lifecycle.${key} is not supported by the local applier`);
  }
  walk(body, spec, '');
}

/** Parses a Go duration as the docker provider takes it ("5s", "1m30s", "500ms") into nanoseconds. */
export function durationNs(text: string): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const parts = [...text.matchAll(/([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new UnsupportedError(`"${text}" is not a duration`);
  return Math.round(parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit], 0));
}
