/**
 * The tracking script at /track.js: @galion/track's built dist/track.min.js, served for the script
 * tags of other sites (cacheable, revalidated by ETag, cross-origin), and listed in the merged
 * OpenAPI document.
 */
import { readFileSync } from 'node:fs';
import { get, type IncomingHttpHeaders } from 'node:http';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { RedisStore } from '@galion/kit';
import { newTestStore, startGateway, startStubUpstream, type GatewayHarness, type StubUpstream } from './harness';

const BUILT_SCRIPT = resolve(__dirname, '../../../packages/track/dist/track.min.js');

let store: RedisStore;
let upstreams: StubUpstream[];
let gw: GatewayHarness;
let built: Buffer;

beforeAll(async () => {
  built = readFileSync(BUILT_SCRIPT);
  store = await newTestStore();
  upstreams = await Promise.all(['auth', 'users', 'analytics'].map((name) => startStubUpstream(name)));
  const [auth, users, analytics] = upstreams.map((upstream) => upstream.url) as [string, string, string];
  gw = await startGateway({ auth, users, analytics }, store);
});

afterAll(async () => {
  await gw?.close();
  await Promise.all((upstreams ?? []).map((upstream) => upstream.close()));
  await store?.close();
});

/** A GET answered as sent on the wire: supertest would gunzip the body. */
const rawGet = (path: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> =>
  new Promise((done, fail) => {
    get(`${gw.url}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', fail);
  });

describe('GET /track.js', () => {
  it('when a browser asks for the script, then it is the built track.min.js, cacheable for an hour and loadable from any site', async () => {
    const response = await rawGet('/track.js', { 'Accept-Encoding': 'identity' });
    expect(response.status).toBe(200);

    expect(response.headers['content-type']).toBe('application/javascript; charset=utf-8');
    expect(response.headers['cache-control']).toBe('public, max-age=3600');
    expect(response.headers['etag']).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(response.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-encoding']).toBeUndefined();
    expect(Buffer.compare(response.body, built)).toBe(0);
    expect(built.toString('utf8')).toContain('window.galion=');
  });

  it('when the browser takes gzip, then the script comes gzipped, under 2 KB, with an ETag of its own', async () => {
    const plain = await gw.http.get('/track.js').set('Accept-Encoding', 'identity').expect(200);
    const response = await rawGet('/track.js', { 'Accept-Encoding': 'gzip, deflate, br' });

    expect(response.status).toBe(200);
    expect(response.headers['content-encoding']).toBe('gzip');
    expect(response.headers['vary']).toMatch(/Accept-Encoding/);
    expect(response.headers['etag']).toBe(plain.headers['etag']!.replace(/"$/, '-gz"'));
    const body = response.body;
    expect(Number(response.headers['content-length'])).toBe(body.length);
    expect(body.length).toBeLessThan(2048);
    expect(Buffer.compare(gunzipSync(body), built)).toBe(0);
  });

  it('when the browser revalidates with the current ETag, then the answer is 304 with no body; with an old one, the script', async () => {
    const { etag } = (await gw.http.get('/track.js').set('Accept-Encoding', 'identity').expect(200)).headers as { etag: string };

    const unchanged = await gw.http.get('/track.js').set('Accept-Encoding', 'identity').set('If-None-Match', etag).expect(304);
    expect(unchanged.text).toBe('');
    expect(unchanged.headers['etag']).toBe(etag);
    expect(unchanged.headers['cache-control']).toBe('public, max-age=3600');

    const stale = await gw.http.get('/track.js').set('Accept-Encoding', 'identity').set('If-None-Match', '"an-older-version"').expect(200);
    expect(stale.text).toBe(built.toString('utf8'));
  });

  it('when it is asked with HEAD, then the headers come without the script', async () => {
    const response = await gw.http.head('/track.js').set('Accept-Encoding', 'identity').expect(200);

    expect(response.headers['content-type']).toBe('application/javascript; charset=utf-8');
    expect(Number(response.headers['content-length'])).toBe(built.length);
    expect(response.text ?? '').toBe('');
  });

  it('when any other answer is sent, then it stays same-origin: only the script is offered to other sites', async () => {
    const docs = await gw.http.get('/docs').expect(200);

    expect(docs.headers['cross-origin-resource-policy']).toBe('same-origin');
  });

  it('when the merged OpenAPI document is read, then it lists GET /track.js as a public JavaScript answer', async () => {
    const doc = (await gw.http.get('/api/v1/openapi.json').expect(200)).body;
    const operation = doc.paths['/track.js'].get;

    expect(operation.security).toBeUndefined();
    expect(operation['x-galion-rate-limit']).toBe('ip');
    expect(Object.keys(operation.responses['200'].content)).toEqual(['application/javascript']);
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '304', '429']));
  });
});
