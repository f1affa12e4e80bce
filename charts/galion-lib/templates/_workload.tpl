{{/* Deployment, Service, ServiceAccount, ConfigMap and credentials Secret of a service. */}}

{{- define "galion-lib.terminationGracePeriodSeconds" -}}
{{- $s := .Values.shutdown -}}
{{- if $s.terminationGracePeriodSeconds -}}
{{- $s.terminationGracePeriodSeconds -}}
{{- else -}}
{{- add $s.preStopSleepSeconds $s.drainDelaySeconds $s.timeoutSeconds 5 -}}
{{- end -}}
{{- end -}}

{{- define "galion-lib.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext -}}
{{- end -}}

{{- define "galion-lib.containerSecurityContext" -}}
{{- toYaml .Values.securityContext -}}
{{- end -}}

{{- define "galion-lib.deployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "galion-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "galion-lib.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: {{ .Values.revisionHistoryLimit }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: {{ .Values.rollingUpdate.maxUnavailable }}
      maxSurge: {{ .Values.rollingUpdate.maxSurge }}
  selector:
    matchLabels:
      {{- include "galion-lib.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "galion-lib.labels" . | nindent 8 }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include "galion-lib.configChecksum" . }}
        checksum/secret: {{ include "galion-lib.secretChecksum" . }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "galion-lib.serviceAccountName" . }}
      automountServiceAccountToken: {{ .Values.serviceAccount.automountToken }}
      enableServiceLinks: false
      {{- with (include "galion-lib.imagePullSecrets" . | trim) }}{{ . | nindent 6 }}{{ end }}
      {{- with .Values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      securityContext:
        {{- include "galion-lib.podSecurityContext" . | nindent 8 }}
      terminationGracePeriodSeconds: {{ include "galion-lib.terminationGracePeriodSeconds" . }}
      {{- if .Values.topologySpread.enabled }}
      topologySpreadConstraints:
        - maxSkew: {{ .Values.topologySpread.maxSkew }}
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: {{ .Values.topologySpread.nodeWhenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- include "galion-lib.selectorLabels" . | nindent 14 }}
          matchLabelKeys:
            - pod-template-hash
        - maxSkew: {{ .Values.topologySpread.maxSkew }}
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: {{ .Values.topologySpread.zoneWhenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- include "galion-lib.selectorLabels" . | nindent 14 }}
          matchLabelKeys:
            - pod-template-hash
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ include "galion-lib.service" . }}
          image: {{ include "galion-lib.image" . | quote }}
          imagePullPolicy: {{ include "galion-lib.imagePullPolicy" . }}
          command: ["node", "dist/main.js"]
          ports:
            - name: http
              containerPort: {{ .Values.service.port }}
              protocol: TCP
            - name: metrics
              containerPort: {{ .Values.service.metricsPort }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "galion-lib.fullname" . }}
          env:
            {{- include "galion-lib.podEnv" . | nindent 12 }}
            {{- include "galion-lib.secretEnv" . | nindent 12 }}
            {{- with .Values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          startupProbe:
            httpGet:
              path: /livez
              port: http
            {{- toYaml .Values.probes.startup | nindent 12 }}
          livenessProbe:
            httpGet:
              path: /livez
              port: http
            {{- toYaml .Values.probes.liveness | nindent 12 }}
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            {{- toYaml .Values.probes.readiness | nindent 12 }}
          lifecycle:
            preStop:
              sleep:
                seconds: {{ .Values.shutdown.preStopSleepSeconds }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            {{- include "galion-lib.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- range .Values.secretFiles }}
            - name: {{ .name }}
              mountPath: {{ .mountPath }}
              readOnly: true
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ .Values.tmpSizeLimit }}
        {{- range .Values.secretFiles }}
        {{- $block := index $.Values .from | default dict }}
        - name: {{ .name }}
          secret:
            secretName: {{ include "galion-lib.secretName" (list $ $block (kebabcase .from)) }}
            defaultMode: 0440
            items:
              - key: {{ index $block .keyField }}
                path: {{ .fileName }}
        {{- end }}
{{- end -}}

{{- define "galion-lib.serviceObject" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "galion-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "galion-lib.labels" . | nindent 4 }}
  {{- with .Values.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .Values.service.type }}
  selector:
    {{- include "galion-lib.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
    - name: metrics
      port: {{ .Values.service.metricsPort }}
      targetPort: metrics
      protocol: TCP
{{- end -}}

{{- define "galion-lib.serviceAccount" -}}
{{- if .Values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "galion-lib.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "galion-lib.labels" . | nindent 4 }}
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: {{ .Values.serviceAccount.automountToken }}
{{- end -}}
{{- end -}}

{{- define "galion-lib.configMap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "galion-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "galion-lib.labels" . | nindent 4 }}
data:
  {{- include "galion-lib.configData" . | nindent 2 }}
{{- end -}}

{{- define "galion-lib.credentialsSecret" -}}
{{- $data := include "galion-lib.credentialsData" . | trim -}}
{{- if $data -}}
apiVersion: v1
kind: Secret
metadata:
  name: {{ include "galion-lib.fullname" . }}-credentials
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "galion-lib.labels" . | nindent 4 }}
type: Opaque
data:
  {{- $data | nindent 2 }}
{{- end -}}
{{- end -}}

{{- define "galion-lib.hpa" -}}
{{- if .Values.autoscaling.enabled -}}
{{- $a := .Values.autoscaling -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "galion-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "galion-lib.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "galion-lib.fullname" . }}
  minReplicas: {{ $a.minReplicas }}
  maxReplicas: {{ $a.maxReplicas }}
  metrics:
    {{- with $a.targetCPUUtilizationPercentage }}
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ . }}
    {{- end }}
    {{- with $a.targetMemoryUtilizationPercentage }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ . }}
    {{- end }}
  behavior:
    scaleUp:
      stabilizationWindowSeconds: {{ $a.scaleUpStabilizationSeconds }}
      policies:
        - type: Percent
          value: 100
          periodSeconds: 60
    scaleDown:
      stabilizationWindowSeconds: {{ $a.scaleDownStabilizationSeconds }}
      policies:
        - type: Pods
          value: 1
          periodSeconds: 60
{{- end -}}
{{- end -}}

{{- define "galion-lib.pdb" -}}
{{- if .Values.podDisruptionBudget.enabled -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "galion-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "galion-lib.labels" . | nindent 4 }}
spec:
  {{- if not (kindIs "invalid" .Values.podDisruptionBudget.minAvailable) }}
  minAvailable: {{ .Values.podDisruptionBudget.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable | default 1 }}
  {{- end }}
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
      {{- include "galion-lib.selectorLabels" . | nindent 6 }}
{{- end -}}
{{- end -}}
