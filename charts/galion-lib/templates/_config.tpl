{{/*
The environment contract with the services. Plain settings go to the service's ConfigMap (and,
inline, to its migration Job, which runs before the ConfigMap exists); secrets are referenced
from Secrets. Renaming a variable is a one-line change here or in the chart's values (`env`).
*/}}

{{- define "galion-lib.g" -}}
{{- toYaml (.Values.global | default dict) -}}
{{- end -}}

{{/* The plain settings, as a YAML map of strings. */}}
{{- define "galion-lib.configData" -}}
{{- $g := .Values.global | default dict -}}
{{- $otel := $g.otel | default dict -}}
{{- $svc := include "galion-lib.service" . -}}
PORT: {{ .Values.service.port | quote }}
HOST: "0.0.0.0"
METRICS_PORT: {{ .Values.service.metricsPort | quote }}
LOG_LEVEL: {{ .Values.logLevel | default ($g.logLevel | default "info") | quote }}
SHUTDOWN_DRAIN_DELAY_MS: {{ include "galion-lib.ms" .Values.shutdown.drainDelaySeconds | quote }}
SHUTDOWN_TIMEOUT_MS: {{ include "galion-lib.ms" .Values.shutdown.timeoutSeconds | quote }}
{{- with .Values.http.corsOrigins }}
CORS_ORIGINS: {{ join "," . | quote }}
{{- end }}
BODY_LIMIT: {{ .Values.http.bodyLimit | quote }}
TRUST_PROXY: {{ .Values.http.trustProxy | quote }}
OTEL_SERVICE_NAME: {{ $svc | quote }}
{{- with $otel.endpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ . | quote }}
{{- end }}
OTEL_TRACES_SAMPLER_ARG: {{ $otel.samplerRatio | default 0.1 | toString | quote }}
{{- if .Values.postgres.enabled }}
DATABASE_URL: {{ required (printf "%s.postgres.url is required" $svc) .Values.postgres.url | quote }}
DATABASE_POOL_MAX: {{ .Values.postgres.poolMax | quote }}
DATABASE_SSL: {{ .Values.postgres.ssl | quote }}
MIGRATE_ON_START: "false"
{{- end }}
{{- if .Values.redis.enabled }}
{{- $redis := $g.redis | default dict }}
REDIS_URL: {{ required "global.redis.url is required" $redis.url | quote }}
{{- end }}
{{- if .Values.kafka.enabled }}
{{- $kafka := $g.kafka | default dict }}
{{- $sasl := $kafka.sasl | default dict }}
KAFKA_BROKERS: {{ join "," (required "global.kafka.brokers is required" $kafka.brokers) | quote }}
KAFKA_CLIENT_ID: {{ .Values.kafka.clientId | default (printf "galion-%s" $svc) | quote }}
KAFKA_SSL: {{ $kafka.ssl | default false | quote }}
KAFKA_TOPIC_PARTITIONS: {{ $kafka.topicPartitions | default 6 | quote }}
{{- if $sasl.mechanism }}
KAFKA_SASL_MECHANISM: {{ $sasl.mechanism | quote }}
KAFKA_SASL_USERNAME: {{ required "global.kafka.sasl.username is required with a SASL mechanism" $sasl.username | quote }}
{{- end }}
{{- end }}
{{- if .Values.tokenVerification.enabled }}
AUTH_JWKS_URL: {{ printf "%s/api/v1/auth/.well-known/jwks.json" (include "galion-lib.peerUrl" (list . "auth")) | quote }}
JWT_ISSUER: {{ include "galion-lib.issuer" . | quote }}
JWT_AUDIENCE: {{ $g.jwtAudience | default "galion" | quote }}
{{- end }}
{{- range $name, $value := .Values.env }}
{{- if not (kindIs "invalid" $value) }}
{{- $rendered := tpl (toString $value) $ }}
{{- if ne $rendered "" }}
{{ $name }}: {{ $rendered | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The public URL of the platform, where clients reach the gateway. */}}
{{- define "galion-lib.publicUrl" -}}
{{- (dig "publicUrl" "http://galion.localhost" (.Values.global | default dict)) | trimSuffix "/" -}}
{{- end -}}

{{- define "galion-lib.issuer" -}}
{{- printf "%s/api/v1/auth" (include "galion-lib.publicUrl" .) -}}
{{- end -}}

{{/* Whether this chart makes the <fullname>-credentials Secret, and what goes in it. */}}
{{- define "galion-lib.credentialsData" -}}
{{- $g := .Values.global | default dict -}}
{{- if and .Values.postgres.enabled .Values.postgres.password (not .Values.postgres.existingSecret) }}
{{ .Values.postgres.passwordKey }}: {{ .Values.postgres.password | b64enc | quote }}
{{- end }}
{{- $redis := $g.redis | default dict }}
{{- if and .Values.redis.enabled $redis.password (not $redis.existingSecret) }}
{{ $redis.passwordKey | default "redis-password" }}: {{ $redis.password | b64enc | quote }}
{{- end }}
{{- $sasl := dig "kafka" "sasl" dict $g }}
{{- if and .Values.kafka.enabled $sasl.password (not $sasl.existingSecret) }}
{{ $sasl.passwordKey | default "kafka-sasl-password" }}: {{ $sasl.password | b64enc | quote }}
{{- end }}
{{- end -}}

{{/* Environment variables taken from Secrets (a YAML list of EnvVar). */}}
{{- define "galion-lib.secretEnv" -}}
{{- $g := .Values.global | default dict -}}
{{- $credentials := printf "%s-credentials" (include "galion-lib.fullname" .) -}}
{{- if and .Values.postgres.enabled (or .Values.postgres.existingSecret .Values.postgres.password) }}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.postgres.existingSecret | default $credentials | quote }}
      key: {{ .Values.postgres.passwordKey | quote }}
{{- end }}
{{- $redis := $g.redis | default dict }}
{{- if and .Values.redis.enabled (or $redis.existingSecret $redis.password) }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $redis.existingSecret | default $credentials | quote }}
      key: {{ $redis.passwordKey | default "redis-password" | quote }}
{{- end }}
{{- $sasl := dig "kafka" "sasl" dict $g }}
{{- if and .Values.kafka.enabled $sasl.mechanism (or $sasl.existingSecret $sasl.password) }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $sasl.existingSecret | default $credentials | quote }}
      key: {{ $sasl.passwordKey | default "kafka-sasl-password" | quote }}
{{- end }}
{{- range .Values.secretEnv }}
{{- $block := index $.Values .from | default dict }}
{{- /* ifSet: a field of the block, or a list of fields any of which is set. */}}
{{- $isSet := not .ifSet }}
{{- range (kindIs "string" .ifSet | ternary (list .ifSet) (.ifSet | default list)) }}
{{- if index $block . }}{{ $isSet = true }}{{ end }}
{{- end }}
{{- if and (not (and (hasKey $block "enabled") (not $block.enabled))) $isSet }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "galion-lib.secretName" (list $ $block (kebabcase .from)) | quote }}
      key: {{ index $block .keyField | quote }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Downward-API variables and the OpenTelemetry resource attributes built from them. */}}
{{- define "galion-lib.podEnv" -}}
- name: K8S_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: K8S_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: K8S_NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
{{- $extra := dig "otel" "extraResourceAttributes" "" (.Values.global | default dict) }}
{{- $attrs := printf "k8s.pod.name=$(K8S_POD_NAME),k8s.namespace.name=$(K8S_NAMESPACE),k8s.node.name=$(K8S_NODE_NAME),service.namespace=galion,service.version=%s" (.Values.image.tag | default .Chart.AppVersion) }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ ternary (printf "%s,%s" $attrs $extra) $attrs (ne $extra "") | quote }}
{{- end -}}

{{/* A checksum of everything that configures the pods, so a change rolls them. */}}
{{- define "galion-lib.configChecksum" -}}
{{- include "galion-lib.configData" . | sha256sum -}}
{{- end -}}

{{- define "galion-lib.secretChecksum" -}}
{{- $refs := list (include "galion-lib.credentialsData" .) (include "galion-lib.secretEnv" .) (toJson .Values.secretFiles) -}}
{{- range .Values.secretEnv }}{{ $refs = append $refs (toJson (index $.Values .from)) }}{{ end -}}
{{- range .Values.secretFiles }}{{ $refs = append $refs (toJson (index $.Values .from)) }}{{ end -}}
{{- toJson $refs | sha256sum -}}
{{- end -}}

{{/* The host name of the public URL (no port), for the Ingress and the HTTPRoute. */}}
{{- define "galion-lib.publicHost" -}}
{{- (urlParse (include "galion-lib.publicUrl" .)).host | splitList ":" | first -}}
{{- end -}}
