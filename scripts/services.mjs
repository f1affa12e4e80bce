// services.json, the one list of Galion's services, for the scripts that generate committed files.
// TypeScript reads it through @galion/manifest, whose tests check the file's fields and rules.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Every service, in manifest order: `{ name, summary, dir, chart, prefix?, port, dependencies, calls?, outbox? }`. */
export const services = JSON.parse(readFileSync(join(ROOT, 'services.json'), 'utf8')).services;

/** The services behind the gateway: those with a prefix. */
export const routedServices = services.filter((service) => service.prefix);

/** `user-feed` → `userFeed`: how a service's name starts the names of its exports. */
export const camelName = (name) => name.replace(/-([a-z0-9])/g, (_, letter) => letter.toUpperCase());
