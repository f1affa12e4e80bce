// skaffold.yaml, which cannot read services.json: one image artifact and one pair of image values
// per service. `--check` fails when the committed file differs; a chart test runs it.
import { writeOrCheck } from './charts/generated-files.mjs';
import { ROOT, services } from './services.mjs';

/** Skaffold's name for an image in its templates: galion/user-feed → galion_user_feed. */
const imageKey = (name) => `galion_${name.replace(/[^A-Za-z0-9]/g, '_')}`;

const artifacts = services
  .map(
    ({ name }) => `    - image: galion/${name}
      docker:
        dockerfile: Dockerfile
        buildArgs: { SERVICE: ${name} }`,
  )
  .join('\n');
const imageValues = services
  .map(
    ({ name }) => `          ${name}.image.repository: "{{.IMAGE_REPO_${imageKey(name)}}}"
          ${name}.image.tag: "{{.IMAGE_TAG_${imageKey(name)}}}"`,
  )
  .join('\n');

const skaffold = `# Inner loop on a cluster: \`skaffold dev\` builds the service images from the one Dockerfile and
# deploys the umbrella chart with k8s/galion-dev-values.yaml. \`skaffold dev -p local\` targets a
# local kind/k3d cluster (images loaded into the cluster, no registry push).
# Prerequisites: the dev dependencies of k8s/ (k8s/README.md).
# Written by scripts/gen-skaffold.mjs from services.json: change those, not this file.
apiVersion: skaffold/v4beta11
kind: Config
metadata:
  name: galion
build:
  tagPolicy:
    gitCommit:
      variant: AbbrevCommitSha
  artifacts:
${artifacts}
manifests:
  helm:
    releases:
      - name: galion
        chartPath: charts/galion
        namespace: galion
        createNamespace: true
        skipBuildDependencies: false
        valuesFiles:
          - k8s/galion-dev-values.yaml
        setValueTemplates:
${imageValues}
deploy:
  helm: {}
portForward:
  - resourceType: service
    resourceName: galion-gateway
    namespace: galion
    port: 8080
    localPort: 8080
profiles:
  - name: local
    activation:
      - kubeContext: kind-.*
      - kubeContext: k3d-.*
    build:
      local:
        push: false
    patches:
      - op: add
        path: /manifests/helm/releases/0/setValues
        value:
          global.image.pullPolicy: IfNotPresent
          global.monitoring.serviceMonitor.enabled: "false"
          global.monitoring.prometheusRule.enabled: "false"
`;

writeOrCheck(ROOT, { 'skaffold.yaml': skaffold }, 'scripts/gen-skaffold.mjs');
