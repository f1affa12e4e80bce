{{/* Everything a service chart renders; a chart's templates/service.yaml is this one include. */}}
{{- define "galion-lib.all" -}}
{{- $docs := list
  (include "galion-lib.serviceAccount" .)
  (include "galion-lib.configMap" .)
  (include "galion-lib.credentialsSecret" .)
  (include "galion-lib.deployment" .)
  (include "galion-lib.serviceObject" .)
  (include "galion-lib.hpa" .)
  (include "galion-lib.pdb" .)
  (include "galion-lib.networkPolicy" .)
  (include "galion-lib.serviceMonitor" .)
  (include "galion-lib.prometheusRule" .)
  (include "galion-lib.migrationNetworkPolicy" .)
  (include "galion-lib.migrationSecret" .)
  (include "galion-lib.migrationJob" .)
-}}
{{- with .Values.metrics.dashboard }}
{{- $docs = append $docs (include "galion-lib.dashboard" (list $ .file .name)) -}}
{{- end }}
{{- range $docs }}
{{- if trim . }}
---
{{ trim . }}
{{- end }}
{{- end }}
{{- end -}}
