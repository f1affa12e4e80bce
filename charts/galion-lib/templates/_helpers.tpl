{{/*
Names and labels shared by every Galion service chart.
The service is the chart's name (gateway, auth, users, analytics, posts, feed, media); it is also the
`app.kubernetes.io/component` label, which ServiceMonitors use as Prometheus's `job` label.
*/}}

{{- define "galion-lib.service" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-<service>, the name of every object of the service and its in-cluster host name. */}}
{{- define "galion-lib.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "galion-lib.service" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The in-cluster base URL of a peer service of the same release: (list $ "auth"). */}}
{{- define "galion-lib.peerUrl" -}}
{{- $ctx := index . 0 -}}
{{- $peer := index . 1 -}}
{{- $override := dig "peers" $peer "" ($ctx.Values.global | default dict) -}}
{{- if $override -}}
{{- $override -}}
{{- else -}}
{{- printf "http://%s-%s:%v" $ctx.Release.Name $peer (dig "peerPort" 8080 ($ctx.Values.global | default dict)) -}}
{{- end -}}
{{- end -}}

{{- define "galion-lib.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "galion-lib.selectorLabels" -}}
app.kubernetes.io/name: {{ include "galion-lib.service" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: {{ include "galion-lib.service" . }}
{{- end -}}

{{- define "galion-lib.labels" -}}
helm.sh/chart: {{ include "galion-lib.chart" . }}
{{ include "galion-lib.selectorLabels" . }}
app.kubernetes.io/part-of: galion
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- with (dig "commonLabels" dict (.Values.global | default dict)) }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels of a Job, a test pod or another helper object of the service: a different component. */}}
{{- define "galion-lib.auxLabels" -}}
{{- $ctx := index . 0 -}}
{{- $component := index . 1 -}}
helm.sh/chart: {{ include "galion-lib.chart" $ctx }}
app.kubernetes.io/name: {{ include "galion-lib.service" $ctx }}
app.kubernetes.io/instance: {{ $ctx.Release.Name }}
app.kubernetes.io/component: {{ printf "%s-%s" (include "galion-lib.service" $ctx) $component }}
app.kubernetes.io/part-of: galion
app.kubernetes.io/version: {{ $ctx.Values.image.tag | default $ctx.Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ $ctx.Release.Service }}
{{- end -}}

{{- define "galion-lib.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "galion-lib.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* registry/repository:tag@digest; global.image.registry and global.image.tag apply when the chart sets none. */}}
{{- define "galion-lib.image" -}}
{{- $g := dig "image" dict (.Values.global | default dict) -}}
{{- $registry := .Values.image.registry | default ($g.registry | default "") -}}
{{- $tag := .Values.image.tag | default ($g.tag | default .Chart.AppVersion) -}}
{{- $ref := .Values.image.repository -}}
{{- if $registry }}{{ $ref = printf "%s/%s" $registry $ref }}{{ end -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" $ref $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref $tag -}}
{{- end -}}
{{- end -}}

{{- define "galion-lib.imagePullPolicy" -}}
{{- .Values.image.pullPolicy | default (dig "image" "pullPolicy" "IfNotPresent" (.Values.global | default dict)) -}}
{{- end -}}

{{- define "galion-lib.imagePullSecrets" -}}
{{- $secrets := concat (.Values.imagePullSecrets | default list) (dig "imagePullSecrets" list (.Values.global | default dict)) -}}
{{- with $secrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Labels for kube-prometheus-stack (its default selectors want `release: <its release>`). */}}
{{- define "galion-lib.monitoringLabels" -}}
{{- with (dig "monitoring" "labels" dict (.Values.global | default dict)) }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The name of a Secret a values block points at: its existingSecret, or the Secret this chart makes,
<fullname>-<suffix>. (list $ $block "suffix")
*/}}
{{- define "galion-lib.secretName" -}}
{{- $ctx := index . 0 -}}
{{- $block := index . 1 | default dict -}}
{{- $suffix := index . 2 -}}
{{- if $block.existingSecret -}}
{{- $block.existingSecret -}}
{{- else -}}
{{- printf "%s-%s" (include "galion-lib.fullname" $ctx) $suffix | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The value of an existing Secret's key, for generated secrets that must survive upgrades. */}}
{{- define "galion-lib.lookupSecretValue" -}}
{{- $ctx := index . 0 -}}
{{- $name := index . 1 -}}
{{- $key := index . 2 -}}
{{- $existing := lookup "v1" "Secret" $ctx.Release.Namespace $name -}}
{{- if and $existing $existing.data (hasKey $existing.data $key) -}}
{{- index $existing.data $key | b64dec -}}
{{- end -}}
{{- end -}}

{{/* Milliseconds from seconds, as the services' *_MS variables want. */}}
{{- define "galion-lib.ms" -}}
{{- mul (int .) 1000 -}}
{{- end -}}
