{{/*
ServiceMonitor, PrometheusRule and Grafana dashboard ConfigMap of a service.
Services are told apart by Prometheus's `job` label: the ServiceMonitor takes it from the
Service's app.kubernetes.io/component label (jobLabel), so job="auth" for the auth service.
Alert thresholds and `for` durations come from global.alerts (a live test can shorten them).
*/}}

{{- define "galion-lib.serviceMonitor" -}}
{{- $m := dig "monitoring" dict (.Values.global | default dict) -}}
{{- if dig "serviceMonitor" "enabled" false $m -}}
{{- if not (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor") -}}
{{- fail "global.monitoring.serviceMonitor.enabled needs the prometheus-operator CRDs (monitoring.coreos.com/v1 ServiceMonitor), e.g. from kube-prometheus-stack" -}}
{{- end -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "galion-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "galion-lib.labels" . | nindent 4 }}
    {{- include "galion-lib.monitoringLabels" . | indent 4 }}
spec:
  jobLabel: app.kubernetes.io/component
  selector:
    matchLabels:
      {{- include "galion-lib.selectorLabels" . | nindent 6 }}
  namespaceSelector:
    matchNames:
      - {{ .Release.Namespace }}
  endpoints:
    - port: metrics
      path: /metrics
      scheme: http
      interval: {{ dig "serviceMonitor" "interval" "30s" $m }}
      scrapeTimeout: {{ dig "serviceMonitor" "scrapeTimeout" "10s" $m }}
      relabelings:
        - sourceLabels: [__meta_kubernetes_pod_name]
          targetLabel: pod
        - sourceLabels: [__meta_kubernetes_pod_container_name]
          targetLabel: container
{{- end -}}
{{- end -}}

{{/* {{ $labels.x }} and {{ $value }} for Prometheus, written out by Helm. */}}
{{- define "galion-lib.promLabel" -}}
{{- printf "{{ $labels.%s }}" . -}}
{{- end -}}

{{- define "galion-lib.alertAnnotations" -}}
{{- $ctx := index . 0 -}}
{{- $alert := index . 1 -}}
{{- $a := dig "alerts" dict ($ctx.Values.global | default dict) }}
runbook_url: {{ printf "%s/%s.md" ($a.runbookBaseUrl | trimSuffix "/") $alert | quote }}
{{- end -}}

{{- define "galion-lib.alertLabels" -}}
{{- $ctx := index . 0 -}}
{{- $severity := index . 1 -}}
severity: {{ $severity }}
component: {{ include "galion-lib.service" $ctx }}
{{- with dig "alerts" "extraLabels" dict ($ctx.Values.global | default dict) }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "galion-lib.prometheusRule" -}}
{{- $g := .Values.global | default dict -}}
{{- $m := $g.monitoring | default dict -}}
{{- if dig "prometheusRule" "enabled" false $m -}}
{{- if not (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/PrometheusRule") -}}
{{- fail "global.monitoring.prometheusRule.enabled needs the prometheus-operator CRDs (monitoring.coreos.com/v1 PrometheusRule), e.g. from kube-prometheus-stack" -}}
{{- end -}}
{{- $a := $g.alerts | default dict -}}
{{- $errorWindow := $a.errorRatio.window | default "5m" -}}
{{- $latencyWindow := $a.latencyP95.window | default "5m" -}}
{{- $svc := include "galion-lib.service" . -}}
{{- $sel := printf "job=%q,namespace=%q" $svc .Release.Namespace -}}
{{- $sets := .Values.metrics.ruleSets -}}
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: {{ include "galion-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "galion-lib.labels" . | nindent 4 }}
    {{- include "galion-lib.monitoringLabels" . | indent 4 }}
spec:
  groups:
    - name: {{ printf "galion-%s.rules" $svc }}
      rules:
        {{- if has "http" $sets }}
        - alert: GalionHighErrorRatio
          expr: |-
            (
              sum by (job, namespace) (rate(http_server_request_duration_seconds_count{{ "{" }}{{ $sel }},status_code=~"5.."}[{{ $errorWindow }}]))
              /
              sum by (job, namespace) (rate(http_server_request_duration_seconds_count{{ "{" }}{{ $sel }}}[{{ $errorWindow }}]))
            ) > {{ $a.errorRatio.threshold }}
          for: {{ $a.errorRatio.for }}
          labels:
            {{- include "galion-lib.alertLabels" (list . $a.errorRatio.severity) | nindent 12 }}
          annotations:
            summary: {{ printf "%s: more than %v%% of requests fail" $svc (mulf $a.errorRatio.threshold 100) | quote }}
            description: {{ printf "%s answers 5xx to %s of its requests (over %s, for %s)." (include "galion-lib.promLabel" "job") "{{ $value | humanizePercentage }}" $errorWindow $a.errorRatio.for | quote }}
            {{- include "galion-lib.alertAnnotations" (list . "GalionHighErrorRatio") | nindent 12 }}
        - alert: GalionHighLatencyP95
          expr: |-
            histogram_quantile(0.95,
              sum by (job, namespace, le) (rate(http_server_request_duration_seconds_bucket{{ "{" }}{{ $sel }},route!~"/(livez|readyz|metrics)"}[{{ $latencyWindow }}]))
            ) > {{ $a.latencyP95.thresholdSeconds }}
          for: {{ $a.latencyP95.for }}
          labels:
            {{- include "galion-lib.alertLabels" (list . $a.latencyP95.severity) | nindent 12 }}
          annotations:
            summary: {{ printf "%s: p95 latency above %vs" $svc $a.latencyP95.thresholdSeconds | quote }}
            description: {{ printf "95%% of %s requests take up to %s (over %s, for %s)." (include "galion-lib.promLabel" "job") "{{ $value | humanizeDuration }}" $latencyWindow $a.latencyP95.for | quote }}
            {{- include "galion-lib.alertAnnotations" (list . "GalionHighLatencyP95") | nindent 12 }}
        {{- end }}
        {{- if has "availability" $sets }}
        - alert: GalionTargetDown
          expr: |-
            up{{ "{" }}{{ $sel }}} == 0
          for: {{ $a.targetDown.for }}
          labels:
            {{- include "galion-lib.alertLabels" (list . $a.targetDown.severity) | nindent 12 }}
          annotations:
            summary: {{ printf "%s: a metrics target is down" $svc | quote }}
            description: {{ printf "Prometheus cannot scrape %s (%s) for %s." (include "galion-lib.promLabel" "pod") (include "galion-lib.promLabel" "instance") $a.targetDown.for | quote }}
            {{- include "galion-lib.alertAnnotations" (list . "GalionTargetDown") | nindent 12 }}
        - alert: GalionPodRestarting
          expr: |-
            increase(kube_pod_container_status_restarts_total{{ "{" }}namespace={{ .Release.Namespace | quote }},container={{ $svc | quote }}}[{{ $a.podRestarts.window }}]) >= {{ $a.podRestarts.threshold }}
          for: {{ $a.podRestarts.for }}
          labels:
            {{- include "galion-lib.alertLabels" (list . $a.podRestarts.severity) | nindent 12 }}
          annotations:
            summary: {{ printf "%s: a pod keeps restarting" $svc | quote }}
            description: {{ printf "Container %s of pod %s restarted %s times in %s." (include "galion-lib.promLabel" "container") (include "galion-lib.promLabel" "pod") "{{ $value | humanize }}" $a.podRestarts.window | quote }}
            {{- include "galion-lib.alertAnnotations" (list . "GalionPodRestarting") | nindent 12 }}
        {{- end }}
        {{- if has "dbPool" $sets }}
        - alert: GalionDBPoolSaturated
          expr: |-
            (
              max by (job, namespace, instance) (db_pool_connections_used{{ "{" }}{{ $sel }}})
              /
              max by (job, namespace, instance) (db_pool_connections_max{{ "{" }}{{ $sel }}} > 0)
            ) >= {{ $a.dbPool.threshold }}
          for: {{ $a.dbPool.for }}
          labels:
            {{- include "galion-lib.alertLabels" (list . $a.dbPool.severity) | nindent 12 }}
          annotations:
            summary: {{ printf "%s: database connection pool nearly exhausted" $svc | quote }}
            description: {{ printf "%s uses %s of its database pool on %s (for %s)." (include "galion-lib.promLabel" "job") "{{ $value | humanizePercentage }}" (include "galion-lib.promLabel" "instance") $a.dbPool.for | quote }}
            {{- include "galion-lib.alertAnnotations" (list . "GalionDBPoolSaturated") | nindent 12 }}
        {{- end }}
        {{- if has "outbox" $sets }}
        - alert: GalionOutboxBacklogGrowing
          expr: |-
            max by (job, namespace) (outbox_oldest_pending_age_seconds{{ "{" }}{{ $sel }}}) > {{ $a.outboxBacklog.maxAgeSeconds }}
          for: {{ $a.outboxBacklog.for }}
          labels:
            {{- include "galion-lib.alertLabels" (list . $a.outboxBacklog.severity) | nindent 12 }}
          annotations:
            summary: {{ printf "%s: events wait in the outbox" $svc | quote }}
            description: {{ printf "The oldest unpublished event of %s is %s old (for %s): events do not reach Kafka." (include "galion-lib.promLabel" "job") "{{ $value | humanizeDuration }}" $a.outboxBacklog.for | quote }}
            {{- include "galion-lib.alertAnnotations" (list . "GalionOutboxBacklogGrowing") | nindent 12 }}
        {{- end }}
        {{- if has "consumer" $sets }}
        {{- /* The service's own consumer metrics, named after it: analytics_consumer_lag, feed_dlq_total. */}}
        {{- $consumerLag := printf "%s_consumer_lag" ($svc | replace "-" "_") }}
        {{- $dlqTotal := printf "%s_dlq_total" ($svc | replace "-" "_") }}
        - alert: GalionConsumerLagGrowing
          expr: |-
            (
              sum by (job, namespace, topic) (max by (job, namespace, topic, partition) ({{ $consumerLag }}{{ "{" }}{{ $sel }}})) > {{ $a.consumerLag.threshold }}
            )
            and
            (
              sum by (job, namespace, topic) (max by (job, namespace, topic, partition) (delta({{ $consumerLag }}{{ "{" }}{{ $sel }}}[{{ $a.consumerLag.window }}]))) > 0
            )
          for: {{ $a.consumerLag.for }}
          labels:
            {{- include "galion-lib.alertLabels" (list . $a.consumerLag.severity) | nindent 12 }}
          annotations:
            summary: {{ printf "%s: consumer lag is growing" $svc | quote }}
            description: {{ printf "%s is %s messages behind on %s and falling further behind (for %s)." (include "galion-lib.promLabel" "job") "{{ $value | humanize }}" (include "galion-lib.promLabel" "topic") $a.consumerLag.for | quote }}
            {{- include "galion-lib.alertAnnotations" (list . "GalionConsumerLagGrowing") | nindent 12 }}
        - alert: GalionDLQReceiving
          expr: |-
            sum by (job, namespace) (increase({{ $dlqTotal }}{{ "{" }}{{ $sel }}}[{{ $a.dlq.window }}])) > 0
          for: {{ $a.dlq.for }}
          labels:
            {{- include "galion-lib.alertLabels" (list . $a.dlq.severity) | nindent 12 }}
          annotations:
            summary: {{ printf "%s: events go to the dead-letter topic" $svc | quote }}
            description: {{ printf "%s sent %s messages to a dead-letter topic (user-events.dlq, or analytics' app-events.dlq) in %s." (include "galion-lib.promLabel" "job") "{{ $value | humanize }}" $a.dlq.window | quote }}
            {{- include "galion-lib.alertAnnotations" (list . "GalionDLQReceiving") | nindent 12 }}
        {{- end }}
        {{- if has "objectStore" $sets }}
        {{- /* The service's own object-store metrics, named after it (media_uploads_total), and its sweep interval (MEDIA_SWEEP_INTERVAL_SECONDS). */}}
        {{- $prefix := $svc | replace "-" "_" }}
        {{- $intervalKey := printf "%s_SWEEP_INTERVAL_SECONDS" ($svc | replace "-" "_" | upper) }}
        {{- $interval := index .Values.env $intervalKey | required (printf "the objectStore rule set needs env.%s (the sweep's interval)" $intervalKey) | int }}
        {{- $maxAge := mul $interval $a.sweepStale.missedRuns }}
        - alert: GalionObjectSweepStale
          # A replica that has not finished a sweep yet counts from its start: a new pod is no alarm
          # until it has missed its runs too.
          expr: |-
            time() - max by (job, namespace) (
              {{ $prefix }}_sweep_last_success_timestamp_seconds{{ "{" }}{{ $sel }}} > 0
              or
              process_start_time_seconds{{ "{" }}{{ $sel }}}
            ) > {{ $maxAge }}
          for: {{ $a.sweepStale.for }}
          labels:
            {{- include "galion-lib.alertLabels" (list . $a.sweepStale.severity) | nindent 12 }}
          annotations:
            summary: {{ printf "%s: the sweep has not finished for %v runs" $svc $a.sweepStale.missedRuns | quote }}
            description: {{ printf "No replica of %s finished a sweep in %s (every %ds): abandoned uploads and objects of failed deletions stay in the store." (include "galion-lib.promLabel" "job") "{{ $value | humanizeDuration }}" $interval | quote }}
            {{- include "galion-lib.alertAnnotations" (list . "GalionObjectSweepStale") | nindent 12 }}
        - alert: GalionObjectDeletesFailing
          expr: |-
            sum by (job, namespace) (increase({{ $prefix }}_object_delete_failures_total{{ "{" }}{{ $sel }}}[{{ $a.objectDeleteFailures.window }}])) > 0
          for: {{ $a.objectDeleteFailures.for }}
          labels:
            {{- include "galion-lib.alertLabels" (list . $a.objectDeleteFailures.severity) | nindent 12 }}
          annotations:
            summary: {{ printf "%s: deleted images leave their objects in the store" $svc | quote }}
            description: {{ printf "%s could not delete %s objects of deleted images in %s (for %s); the sweep removes them once the store answers." (include "galion-lib.promLabel" "job") "{{ $value | humanize }}" $a.objectDeleteFailures.window $a.objectDeleteFailures.for | quote }}
            {{- include "galion-lib.alertAnnotations" (list . "GalionObjectDeletesFailing") | nindent 12 }}
        - alert: GalionUploadsUnavailable
          expr: |-
            (
              sum by (job, namespace) (rate({{ $prefix }}_uploads_total{{ "{" }}{{ $sel }},result="dependency_unavailable"}[{{ $a.uploadsUnavailable.window }}]))
              /
              sum by (job, namespace) (rate({{ $prefix }}_uploads_total{{ "{" }}{{ $sel }}}[{{ $a.uploadsUnavailable.window }}]))
            ) > {{ $a.uploadsUnavailable.threshold }}
          for: {{ $a.uploadsUnavailable.for }}
          labels:
            {{- include "galion-lib.alertLabels" (list . $a.uploadsUnavailable.severity) | nindent 12 }}
          annotations:
            summary: {{ printf "%s: uploads fail, the object store or the database cannot be reached" $svc | quote }}
            description: {{ printf "%s refuses %s of its uploads with 503 dependency_unavailable (over %s, for %s)." (include "galion-lib.promLabel" "job") "{{ $value | humanizePercentage }}" $a.uploadsUnavailable.window $a.uploadsUnavailable.for | quote }}
            {{- include "galion-lib.alertAnnotations" (list . "GalionUploadsUnavailable") | nindent 12 }}
        {{- end }}
        {{- if has "circuitBreaker" $sets }}
        - alert: GalionUpstreamCircuitOpen
          expr: |-
            max by (job, namespace, upstream) (gateway_circuit_breaker_state{{ "{" }}{{ $sel }}}) == 2
          for: {{ $a.circuitBreaker.for }}
          labels:
            {{- include "galion-lib.alertLabels" (list . $a.circuitBreaker.severity) | nindent 12 }}
          annotations:
            summary: {{ printf "%s: circuit breaker open" $svc | quote }}
            description: {{ printf "The gateway stopped calling %s: its circuit breaker has been open for %s." (include "galion-lib.promLabel" "upstream") $a.circuitBreaker.for | quote }}
            {{- include "galion-lib.alertAnnotations" (list . "GalionUpstreamCircuitOpen") | nindent 12 }}
        {{- end }}
{{- end -}}
{{- end -}}

{{/* A Grafana dashboard (a JSON file of the calling chart) in a ConfigMap for the Grafana sidecar. */}}
{{- define "galion-lib.dashboard" -}}
{{- $ctx := index . 0 -}}
{{- $file := index . 1 -}}
{{- $name := index . 2 -}}
{{- $d := dig "monitoring" "dashboards" dict ($ctx.Values.global | default dict) -}}
{{- if $d.enabled -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ printf "%s-dashboard-%s" $ctx.Release.Name $name | trunc 63 | trimSuffix "-" }}
  namespace: {{ $d.namespace | default $ctx.Release.Namespace }}
  labels:
    helm.sh/chart: {{ include "galion-lib.chart" $ctx }}
    app.kubernetes.io/instance: {{ $ctx.Release.Name }}
    app.kubernetes.io/part-of: galion
    app.kubernetes.io/managed-by: {{ $ctx.Release.Service }}
    app.kubernetes.io/component: dashboard
    {{- toYaml $d.labels | nindent 4 }}
  {{- with $d.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
data:
  {{ printf "galion-%s.json" $name }}: |-
    {{- $ctx.Files.Get $file | required (printf "dashboard file %s is missing" $file) | nindent 4 }}
{{- end -}}
{{- end -}}
