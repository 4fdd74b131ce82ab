import { isPresent, labelMap, removeIfPresent, ResourceHandler } from './handler';

/** docker_network: name, driver, internal, attachable, labels. */
export const dockerNetwork: ResourceHandler = {
  attributes: { name: true, driver: true, internal: true, attachable: true, labels: { label: true, value: true } },
  describe: (c) => String(c.name),
  async create(ctx, _address, c) {
    const name = String(c.name);
    // A network left by an interrupted run (same name, same stack label) is taken over.
    // The name filter matches substrings too (net finds net-old): only an exact match is taken over.
    const existing = (await ctx.docker.listNetworks({ filters: { name: [name] } })).find((n) => n.Name === name);
    if (existing) return { id: existing.Id, name };
    const n = await ctx.docker.createNetwork({
      Name: name,
      Driver: (c.driver as string | undefined) ?? 'bridge',
      Internal: Boolean(c.internal),
      Attachable: Boolean(c.attachable),
      Labels: labelMap(c.labels),
      CheckDuplicate: true,
    });
    return { id: n.id, name };
  },
  exists: (ctx, entry) => isPresent(() => ctx.docker.getNetwork(String(entry.outputs.id)).inspect()),
  destroy: (ctx, entry) => removeIfPresent(() => ctx.docker.getNetwork(String(entry.outputs.id)).remove()),
};
