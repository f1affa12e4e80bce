import type { ApiRouter } from '@galion/kit';
import type { SiteRegistry, TrackingSite } from '../domain/sites.js';
import { CreateSiteBody, SiteList, SiteParams, Site, UpdateSiteBody } from '../tracking-schemas.js';
import { BASE } from './analytics-routes.js';

const tags = ['analytics'];
const access = { role: 'admin' };
const notFound = 'No site has this id (site_not_found).';

const toSite = (site: TrackingSite) => ({
  id: site.id,
  name: site.name,
  key: site.key,
  allowed_origins: site.allowedOrigins,
  events_per_minute: site.eventsPerMinute,
  created_at: site.createdAt.toISOString(),
  revoked_at: site.revokedAt?.toISOString() ?? null,
});

/** The sites that send events with a publishable key (admin). */
export const registerSiteRoutes = (api: ApiRouter, { sites }: { sites: SiteRegistry }): void => {
  api.route({
    method: 'post',
    path: `${BASE}/sites`,
    summary: 'Create a site: a publishable key and the origins whose pages may use it (admin)',
    tags,
    access,
    body: CreateSiteBody,
    responses: { 201: { description: 'The site, with its key', schema: Site } },
    handler: async ({ body }) => ({
      status: 201,
      body: toSite(await sites.create({ name: body.name, allowedOrigins: body.allowed_origins, eventsPerMinute: body.events_per_minute })),
    }),
  });

  api.route({
    method: 'get',
    path: `${BASE}/sites`,
    summary: 'Every site, revoked ones included, oldest first (admin)',
    tags,
    access,
    responses: { 200: { description: 'The sites', schema: SiteList } },
    handler: async () => ({ body: { sites: (await sites.list()).map(toSite) } }),
  });

  api.route({
    method: 'get',
    path: `${BASE}/sites/{id}`,
    summary: 'One site (admin)',
    tags,
    access,
    params: SiteParams,
    responses: { 200: { description: 'The site', schema: Site }, 404: notFound },
    handler: async ({ params }) => ({ body: toSite(await sites.get(params.id)) }),
  });

  api.route({
    method: 'patch',
    path: `${BASE}/sites/{id}`,
    summary: 'Rename a site, change its allowed origins or its limit (admin); replicas apply it within 10 s',
    tags,
    access,
    params: SiteParams,
    body: UpdateSiteBody,
    responses: { 200: { description: 'The site', schema: Site }, 404: notFound },
    handler: async ({ params, body }) => ({
      body: toSite(
        await sites.update(params.id, {
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.allowed_origins !== undefined ? { allowedOrigins: body.allowed_origins } : {}),
          ...(body.events_per_minute !== undefined ? { eventsPerMinute: body.events_per_minute } : {}),
        }),
      ),
    }),
  });

  api.route({
    method: 'delete',
    path: `${BASE}/sites/{id}`,
    summary: 'Revoke a site’s key (admin): its events stay; within 10 s the key is refused (key_invalid)',
    tags,
    access,
    params: SiteParams,
    responses: { 204: { description: 'Revoked (again, if it already was)' }, 404: notFound },
    handler: async ({ params }) => {
      await sites.revoke(params.id);
      return { status: 204 };
    },
  });
};
