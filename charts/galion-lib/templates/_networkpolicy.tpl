{{/*
NetworkPolicy of a service: it selects the service's pods and lists every allowed flow, so
everything else, in and out, is denied. Who talks to whom:
  ingress controller -> gateway; gateway -> auth, users, analytics, posts, feed, media; users,
  analytics, posts, feed, media -> auth (JWKS); auth, users, analytics, posts, media -> Postgres;
  auth, users, analytics, posts, feed, media -> Kafka; all -> Redis; media -> the S3 store;
  Prometheus -> metrics port; all -> DNS and the OTLP collector.
Peers of the same release are matched by labels (app.kubernetes.io/instance and /component);
external dependencies by the peers and ports in global.networkPolicy (an empty `to` allows
any destination on those ports, for managed services outside the cluster).
*/}}

{{- define "galion-lib.npRule" -}}
{{- $rule := index . 0 -}}
{{- $dir := index . 1 -}}
{{- if $rule.ports }}
- {{ $dir }}:
    {{- if $rule.to }}
    {{- toYaml $rule.to | nindent 4 }}
    {{- else }} []
    {{- end }}
  ports:
    {{- toYaml $rule.ports | nindent 4 }}
{{- end }}
{{- end -}}

{{- define "galion-lib.networkPolicy" -}}
{{- $g := .Values.global | default dict -}}
{{- $np := $g.networkPolicy | default dict -}}
{{- if $np.enabled -}}
{{- $local := .Values.networkPolicy -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "galion-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "galion-lib.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "galion-lib.selectorLabels" . | nindent 6 }}
  policyTypes:
    - Ingress
    - Egress
  ingress:
    {{- if $local.fromIngressController }}
    - from:
        {{- required "global.networkPolicy.ingressController must list the ingress controller's pods" $np.ingressController | toYaml | nindent 8 }}
      ports:
        - port: http
          protocol: TCP
    {{- end }}
    {{- with $local.allowFrom }}
    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/instance: {{ $.Release.Name }}
            matchExpressions:
              - key: app.kubernetes.io/component
                operator: In
                values:
                  {{- toYaml . | nindent 18 }}
      ports:
        - port: http
          protocol: TCP
    {{- end }}
    {{- with $np.prometheus }}
    - from:
        {{- toYaml . | nindent 8 }}
      ports:
        - port: metrics
          protocol: TCP
    {{- end }}
    {{- with $local.extraIngress }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  egress:
    {{- include "galion-lib.npRule" (list $np.dns "to") | indent 4 }}
    {{- with $local.allowTo }}
    - to:
        - podSelector:
            matchLabels:
              app.kubernetes.io/instance: {{ $.Release.Name }}
            matchExpressions:
              - key: app.kubernetes.io/component
                operator: In
                values:
                  {{- toYaml . | nindent 18 }}
      ports:
        - port: {{ $.Values.service.port }}
          protocol: TCP
    {{- end }}
    {{- if .Values.postgres.enabled }}
    {{- include "galion-lib.npRule" (list $np.postgres "to") | indent 4 }}
    {{- end }}
    {{- if .Values.redis.enabled }}
    {{- include "galion-lib.npRule" (list $np.redis "to") | indent 4 }}
    {{- end }}
    {{- if .Values.kafka.enabled }}
    {{- include "galion-lib.npRule" (list $np.kafka "to") | indent 4 }}
    {{- end }}
    {{- if .Values.s3.enabled }}
    {{- include "galion-lib.npRule" (list $np.s3 "to") | indent 4 }}
    {{- end }}
    {{- include "galion-lib.npRule" (list $np.otlp "to") | indent 4 }}
    {{- with $local.extraEgress }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}
{{- end -}}

{{/*
NetworkPolicy of a hook pod (a migration Job, a helm test): a hook itself, made just before the
pods and deleted with them, so even these short-lived pods are default-deny with only the flows
they need. (list $ "migrate" "pre-install,pre-upgrade" egressRulesYaml)
*/}}
{{- define "galion-lib.hookNetworkPolicy" -}}
{{- $ctx := index . 0 -}}
{{- $component := index . 1 -}}
{{- $hook := index . 2 -}}
{{- $egress := index . 3 -}}
{{- $np := dig "networkPolicy" dict ($ctx.Values.global | default dict) -}}
{{- if $np.enabled -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ printf "%s-%s" (include "galion-lib.fullname" $ctx) $component | trunc 63 | trimSuffix "-" }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "galion-lib.auxLabels" (list $ctx $component) | nindent 4 }}
  annotations:
    helm.sh/hook: {{ $hook }}
    helm.sh/hook-weight: "-10"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded,hook-failed
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/instance: {{ $ctx.Release.Name }}
      app.kubernetes.io/component: {{ printf "%s-%s" (include "galion-lib.service" $ctx) $component }}
  policyTypes:
    - Ingress
    - Egress
  ingress: []
  egress:
    {{- include "galion-lib.npRule" (list $np.dns "to") | indent 4 }}
    {{- $egress | indent 4 }}
{{- end -}}
{{- end -}}

{{- define "galion-lib.migrationNetworkPolicy" -}}
{{- if and .Values.postgres.enabled .Values.migrations.enabled -}}
{{- $np := dig "networkPolicy" dict (.Values.global | default dict) -}}
{{- $egress := cat (include "galion-lib.npRule" (list $np.postgres "to")) (include "galion-lib.npRule" (list $np.otlp "to")) -}}
{{- include "galion-lib.hookNetworkPolicy" (list . "migrate" "pre-install,pre-upgrade" $egress) -}}
{{- end -}}
{{- end -}}
