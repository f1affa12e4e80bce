{{/*
NetworkPolicy of a service: it selects the service's pods and lists every allowed flow, so
everything else, in and out, is denied. Who talks to whom:
  ingress controller -> gateway; gateway -> auth, users, analytics; users, analytics -> auth (JWKS);
  auth, users, analytics -> Postgres and Kafka; all -> Redis; Prometheus -> metrics port;
  all -> DNS and the OTLP collector.
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
    {{- include "galion-lib.npRule" (list $np.otlp "to") | indent 4 }}
    {{- with $local.extraEgress }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}
{{- end -}}
