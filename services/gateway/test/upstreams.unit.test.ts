import { manifest } from '@galion/manifest';
import { gatewayEnvSchema, loadGatewayConfig, UPSTREAMS, upstreamSetting } from '../src/config';

describe('the services behind the gateway', () => {
  it('when services.json gives services a prefix, then the gateway routes to exactly those, under their prefixes', () => {
    expect(UPSTREAMS).toEqual(manifest.routed().map(({ name, prefix }) => ({ name, prefix })));
  });

  it('when the gateway routes to a service, then it has settings for its URL, its timeout and its requests in flight', () => {
    const settings = Object.keys(gatewayEnvSchema.shape);
    for (const { name } of UPSTREAMS)
      for (const setting of ['URL', 'UPSTREAM_TIMEOUT_MS', 'UPSTREAM_MAX_IN_FLIGHT'] as const)
        expect({ name, setting: upstreamSetting(name, setting), declared: settings.includes(upstreamSetting(name, setting)) }).toEqual({
          name,
          setting: upstreamSetting(name, setting),
          declared: true,
        });
  });

  it("when each service's URL is set, then each upstream has its own URL and prefix, and the shared timeout unless its own is set", () => {
    const urls = Object.fromEntries(UPSTREAMS.map(({ name }) => [upstreamSetting(name, 'URL'), `http://${name}:8080/`]));
    const [first] = UPSTREAMS;

    const config = loadGatewayConfig({
      ...urls,
      UPSTREAM_TIMEOUT_MS: '2000',
      [upstreamSetting(first!.name, 'UPSTREAM_TIMEOUT_MS')]: '500',
    });

    expect(config.upstreams.map(({ name, url, prefix, timeoutMs }) => ({ name, url, prefix, timeoutMs }))).toEqual(
      UPSTREAMS.map(({ name, prefix }) => ({ name, url: `http://${name}:8080`, prefix, timeoutMs: name === first!.name ? 500 : 2000 })),
    );
  });
});
