import { isNotFound, isPresent, labelMap, removeIfPresent, ResourceHandler } from './handler';

/** docker_volume: name, driver, driver_opts, labels. An existing volume of that name is adopted, never emptied. */
export const dockerVolume: ResourceHandler = {
  attributes: { name: true, driver: true, driver_opts: true, labels: { label: true, value: true } },
  describe: (c) => String(c.name),
  async create(ctx, _address, c) {
    const name = String(c.name);
    try {
      const existing = await ctx.docker.getVolume(name).inspect();
      return { id: existing.Name, name: existing.Name, mountpoint: existing.Mountpoint };
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const v = await ctx.docker.createVolume({
      Name: name,
      Driver: (c.driver as string | undefined) ?? 'local',
      DriverOpts: (c.driver_opts as Record<string, string> | undefined) ?? {},
      Labels: labelMap(c.labels),
    });
    const info = await ctx.docker.getVolume(v.name).inspect();
    return { id: info.Name, name: info.Name, mountpoint: info.Mountpoint };
  },
  exists: (ctx, entry) => isPresent(() => ctx.docker.getVolume(String(entry.outputs.name)).inspect()),
  destroy: (ctx, entry) => removeIfPresent(() => ctx.docker.getVolume(String(entry.outputs.name)).remove()),
};
