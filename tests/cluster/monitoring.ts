/**
 * A Prometheus for the test cluster, configured the way the Prometheus Operator would configure
 * it from the release's own ServiceMonitors and PrometheusRules: Prometheus on this machine
 * discovers the pods through the API server (EndpointSlices) and scrapes them on the
 * pod network, and evaluates the release's alert rules as they are.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterBinDir, serviceMonitorScrapeConfigs, startPrometheus, type LocalCluster, type PrometheusHandle, type ServiceMonitor } from '@galion/localdeps';

interface PrometheusRule {
  metadata: { name: string };
  spec: { groups: object[] };
}

export const startClusterPrometheus = async (cluster: LocalCluster, namespace: string): Promise<PrometheusHandle> => {
  const items = async <T>(kind: string): Promise<T[]> =>
    (JSON.parse(await cluster.kubectl(['-n', namespace, 'get', kind, '-o', 'json'])) as { items: T[] }).items;
  const monitors = await items<ServiceMonitor>('servicemonitors.monitoring.coreos.com');
  const rules = await items<PrometheusRule>('prometheusrules.monitoring.coreos.com');
  if (monitors.length === 0 || rules.length === 0) throw new Error(`no ServiceMonitors or PrometheusRules in ${namespace}`);
  const dir = mkdtempSync(join(tmpdir(), 'galion-cluster-rules-'));
  const ruleFiles = rules.map((rule) => {
    // A rule file is YAML, of which JSON is a part.
    const file = join(dir, `${rule.metadata.name}.json`);
    writeFileSync(file, JSON.stringify({ groups: rule.spec.groups }));
    return file;
  });
  return startPrometheus({
    // Built by install-cluster-tools.sh with Kubernetes discovery, which Debian's build leaves out.
    binary: join(await clusterBinDir(), 'prometheus'),
    scrapeConfigs: serviceMonitorScrapeConfigs(monitors, cluster.kubeconfig),
    ruleFiles,
    // The ServiceMonitors' own intervals apply; rules are evaluated as often.
    scrapeIntervalSeconds: 5,
    evaluationIntervalSeconds: 5,
  });
};
