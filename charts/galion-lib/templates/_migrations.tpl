{{/*
Database migrations: a Helm hook Job (pre-install, pre-upgrade) running `node dist/migrate.js`
with the service's own image. The services never migrate at start in the cluster
(MIGRATE_ON_START=false); migrate.js is safe to run again (applied migrations are skipped).
The Job runs before the release's ConfigMap and Secrets exist, so its settings are inline and a
password given as a value goes in a hook Secret made just before it (weight -10).
*/}}

{{- define "galion-lib.migrationSecret" -}}
{{- if and .Values.postgres.enabled .Values.migrations.enabled .Values.postgres.password (not .Values.postgres.existingSecret) -}}
apiVersion: v1
kind: Secret
metadata:
  name: {{ include "galion-lib.fullname" . }}-migrate
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "galion-lib.auxLabels" (list . "migrate") | nindent 4 }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-10"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded,hook-failed
type: Opaque
data:
  {{ .Values.postgres.passwordKey }}: {{ .Values.postgres.password | b64enc | quote }}
{{- end -}}
{{- end -}}

{{- define "galion-lib.migrationJob" -}}
{{- if and .Values.postgres.enabled .Values.migrations.enabled -}}
{{- $m := .Values.migrations -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "galion-lib.fullname" . }}-migrate
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "galion-lib.auxLabels" (list . "migrate") | nindent 4 }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "0"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: {{ $m.backoffLimit }}
  activeDeadlineSeconds: {{ $m.activeDeadlineSeconds }}
  ttlSecondsAfterFinished: {{ $m.ttlSecondsAfterFinished }}
  template:
    metadata:
      labels:
        {{- include "galion-lib.auxLabels" (list . "migrate") | nindent 8 }}
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      enableServiceLinks: false
      {{- with (include "galion-lib.imagePullSecrets" . | trim) }}{{ . | nindent 6 }}{{ end }}
      securityContext:
        {{- include "galion-lib.podSecurityContext" . | nindent 8 }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: migrate
          image: {{ include "galion-lib.image" . | quote }}
          imagePullPolicy: {{ include "galion-lib.imagePullPolicy" . }}
          command: ["node", "dist/migrate.js"]
          env:
            {{- range $name, $value := (include "galion-lib.configData" . | fromYaml) }}
            {{- if regexMatch "^(DATABASE_|LOG_LEVEL$|OTEL_)" $name }}
            - name: {{ $name }}
              value: {{ $value | toString | quote }}
            {{- end }}
            {{- end }}
            {{- if or .Values.postgres.existingSecret .Values.postgres.password }}
            - name: DATABASE_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: {{ .Values.postgres.existingSecret | default (printf "%s-migrate" (include "galion-lib.fullname" .)) | quote }}
                  key: {{ .Values.postgres.passwordKey | quote }}
            {{- end }}
            {{- include "galion-lib.podEnv" . | nindent 12 }}
          resources:
            {{- toYaml $m.resources | nindent 12 }}
          securityContext:
            {{- include "galion-lib.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end -}}
{{- end -}}
