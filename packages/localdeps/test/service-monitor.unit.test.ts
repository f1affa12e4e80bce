import { serviceMonitorScrapeConfigs, type ServiceMonitor } from '@galion/localdeps';

interface Relabel {
  action?: string;
  source_labels?: string[];
  target_label?: string;
  regex?: string;
  replacement?: string;
}

interface ScrapeConfig {
  job_name: string;
  kubernetes_sd_configs: { role: string; kubeconfig_file: string; namespaces?: { names: string[] } }[];
  scheme: string;
  metrics_path: string;
  scrape_interval?: string;
  scrape_timeout?: string;
  relabel_configs: Relabel[];
}

/** The ServiceMonitor the Galion charts render for one service. */
const monitor = (overrides: Partial<ServiceMonitor['spec']> = {}): ServiceMonitor => ({
  metadata: { name: 'galion-auth', namespace: 'galion' },
  spec: {
    jobLabel: 'app.kubernetes.io/component',
    selector: { matchLabels: { 'app.kubernetes.io/name': 'auth', 'app.kubernetes.io/instance': 'galion' } },
    namespaceSelector: { matchNames: ['galion'] },
    endpoints: [
      {
        port: 'metrics',
        path: '/metrics',
        interval: '5s',
        scrapeTimeout: '4s',
        relabelings: [{ sourceLabels: ['__meta_kubernetes_pod_name'], targetLabel: 'pod' }],
      },
    ],
    ...overrides,
  },
});

const configsOf = (monitors: ServiceMonitor[]): ScrapeConfig[] => serviceMonitorScrapeConfigs(monitors, '/tmp/kubeconfig') as ScrapeConfig[];

describe('Prometheus scrape configs from ServiceMonitors', () => {
  test('when a ServiceMonitor selects Services by labels, then only Services with each label and value are kept, on the named port', () => {
    const [config] = configsOf([monitor()]);

    expect(config?.relabel_configs.filter((r) => r.action === 'keep')).toEqual([
      {
        action: 'keep',
        source_labels: ['__meta_kubernetes_service_label_app_kubernetes_io_name', '__meta_kubernetes_service_labelpresent_app_kubernetes_io_name'],
        regex: '(auth);true',
      },
      {
        action: 'keep',
        source_labels: ['__meta_kubernetes_service_label_app_kubernetes_io_instance', '__meta_kubernetes_service_labelpresent_app_kubernetes_io_instance'],
        regex: '(galion);true',
      },
      { action: 'keep', source_labels: ['__meta_kubernetes_endpointslice_port_name'], regex: 'metrics' },
    ]);
  });

  test('when a ServiceMonitor names a jobLabel, then the job comes from that Service label, after the Service name default', () => {
    const jobRules = configsOf([monitor()])[0]?.relabel_configs.filter((r) => r.target_label === 'job');

    expect(jobRules?.map((r) => r.source_labels)).toEqual([['__meta_kubernetes_service_name'], ['__meta_kubernetes_service_label_app_kubernetes_io_component']]);
  });

  test('when it has no jobLabel, then the job is the Service name', () => {
    const jobRules = configsOf([monitor({ jobLabel: undefined })])[0]?.relabel_configs.filter((r) => r.target_label === 'job');

    expect(jobRules?.map((r) => r.source_labels)).toEqual([['__meta_kubernetes_service_name']]);
  });

  test('when an endpoint has an interval, path and relabelings, then the scrape config carries them, the relabelings last, in Prometheus spelling', () => {
    const [config] = configsOf([monitor()]);

    expect(config).toMatchObject({
      job_name: 'serviceMonitor/galion/galion-auth/0',
      kubernetes_sd_configs: [{ role: 'endpointslice', kubeconfig_file: '/tmp/kubeconfig', namespaces: { names: ['galion'] } }],
      scheme: 'http',
      metrics_path: '/metrics',
      scrape_interval: '5s',
      scrape_timeout: '4s',
    });
    expect(config?.relabel_configs.at(-1)).toEqual({ source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' });
  });

  test('when the namespace selector says any, then discovery is not limited to namespaces', () => {
    const [config] = configsOf([monitor({ namespaceSelector: { any: true } })]);

    expect(config?.kubernetes_sd_configs[0]?.namespaces).toBeUndefined();
  });

  test('when a ServiceMonitor has two endpoints, then each gets a scrape config of its own', () => {
    const two = monitor({ endpoints: [{ port: 'metrics' }, { port: 'admin', path: '/stats' }] });

    expect(configsOf([two]).map((c) => [c.job_name, c.metrics_path])).toEqual([
      ['serviceMonitor/galion/galion-auth/0', '/metrics'],
      ['serviceMonitor/galion/galion-auth/1', '/stats'],
    ]);
  });
});
