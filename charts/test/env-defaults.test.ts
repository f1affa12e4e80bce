/**
 * A chart's `env` may spell out a setting with its default, so deployers see the knob in
 * values.yaml; the default itself lives in the service's env schema. This holds the two equal:
 * a literal in a chart's env that the schema also defaults must be that default, so changing one
 * without the other fails here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifest } from '@galion/manifest';
import type { z } from '@galion/kit';
import { CHARTS, parseYaml } from './tools';

// Each service of the manifest exports its env schema as <name>EnvSchema from src/config.ts.
const SCHEMAS: Record<string, z.ZodObject> = Object.fromEntries(
  manifest.names.map((name) => [name, require(`@galion/${name}/config`)[`${name}EnvSchema`] as z.ZodObject]),
);

const defaultOf = (schema: z.ZodType | undefined): unknown => {
  const def = (schema as { def?: { type: string; defaultValue?: unknown } } | undefined)?.def;
  return def?.type === 'default' ? def.defaultValue : undefined;
};

describe("chart env values and the services' defaults", () => {
  it('when a service is in the manifest, then it exports its env schema', () => {
    for (const [name, schema] of Object.entries(SCHEMAS))
      expect({ name, exported: schema?.shape !== undefined }).toEqual({ name, exported: true });
  });

  it('when a chart spells out a default in its env, then it is the env schema’s default', () => {
    const spelled = Object.entries(SCHEMAS).flatMap(([name, schema]) => {
      const values = parseYaml(readFileSync(join(CHARTS, name, 'values.yaml'), 'utf8'))[0] as { env?: Record<string, unknown> };
      const shape = schema.shape as Record<string, z.ZodType>;
      return Object.entries(values.env ?? {})
        .filter(([key, value]) => !String(value).includes('{{') && defaultOf(shape[key]) !== undefined)
        .map(([key, value]) => ({ chart: name, key, value: String(value), schemaDefault: String(defaultOf(shape[key])) }));
    });

    // The charts do spell some out (argon2 costs, retention, the upstream bound): the check has work.
    expect(spelled.length).toBeGreaterThan(5);
    for (const entry of spelled) expect(entry).toEqual({ ...entry, value: entry.schemaDefault });
  });
});
