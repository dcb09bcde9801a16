{{/* Names, labels and the pieces every Townhall container shares. */}}

{{- define "townhall.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "townhall.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "townhall.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "townhall.selectorLabels" -}}
app.kubernetes.io/name: {{ include "townhall.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "townhall.labels" -}}
helm.sh/chart: {{ include "townhall.chart" . }}
{{ include "townhall.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: townhall
{{- end }}

{{/* Labels of one component: (dict "root" $ "component" "web") */}}
{{- define "townhall.componentLabels" -}}
{{ include "townhall.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "townhall.componentSelector" -}}
{{ include "townhall.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "townhall.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "townhall.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "townhall.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{- define "townhall.secretName" -}}
{{- required "existingSecret: name the Secret holding SECRET_KEY, DATABASE_URL and REDIS_URL (docs/deploy.md)" .Values.existingSecret }}
{{- end }}

{{/* The Host header of HTTP probes: probeHost, else the first ALLOWED_HOSTS name. */}}
{{- define "townhall.probeHost" -}}
{{- $first := (splitList "," (required "config.ALLOWED_HOSTS is required in production" .Values.config.ALLOWED_HOSTS) | first | trim | trimPrefix "." | trimPrefix "*") }}
{{- .Values.probeHost | default $first | default "localhost" }}
{{- end }}

{{/* The environment every Townhall container gets: fixed production settings, the
ConfigMap (config) and the existing Secret. Call with (dict "root" $ "extra" LIST), where
LIST holds more {name, value} pairs (or is absent). */}}
{{- define "townhall.env" -}}
env:
  - name: TOWNHALL_ENV
    value: production
  - name: TOWNHALL_VAR_DIR
    value: /app/var
  - name: HOME
    value: /tmp
  {{- if and .ledger .root.Values.ledgerKey.existingSecret }}
  - name: TOWNHALL_LEDGER_KEY_FILE
    value: /etc/townhall/ledger/{{ .root.Values.ledgerKey.key }}
  {{- end }}
  {{- with .extra }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
envFrom:
  - configMapRef:
      name: {{ include "townhall.fullname" .root }}
  - secretRef:
      name: {{ include "townhall.secretName" .root }}
{{- end }}

{{- define "townhall.podSecurity" -}}
serviceAccountName: {{ include "townhall.serviceAccountName" . }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Volumes: /tmp always, media unless "media" is false in the dict, the ledger key when
"ledger" is true. Call with (dict "root" $ "media" true "ledger" false). */}}
{{- define "townhall.volumes" -}}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ .root.Values.tmpSizeLimit }}
  {{- if .media }}
  - name: media
    {{- if .root.Values.media.persistence.enabled }}
    persistentVolumeClaim:
      claimName: {{ .root.Values.media.persistence.existingClaim | default (printf "%s-media" (include "townhall.fullname" .root)) }}
    {{- else }}
    emptyDir: {}
    {{- end }}
  {{- end }}
  {{- if and .ledger .root.Values.ledgerKey.existingSecret }}
  - name: ledger-key
    secret:
      secretName: {{ .root.Values.ledgerKey.existingSecret }}
      defaultMode: 0440
      items:
        - key: {{ .root.Values.ledgerKey.key }}
          path: {{ .root.Values.ledgerKey.key }}
  {{- end }}
{{- end }}

{{- define "townhall.volumeMounts" -}}
volumeMounts:
  - name: tmp
    mountPath: /tmp
  {{- if .media }}
  - name: media
    mountPath: /app/var/media
  {{- end }}
  {{- if and .ledger .root.Values.ledgerKey.existingSecret }}
  - name: ledger-key
    mountPath: /etc/townhall/ledger
    readOnly: true
  {{- end }}
{{- end }}

{{/* Probes of the HTTP servers: readiness on /readyz, liveness on /healthz. */}}
{{- define "townhall.httpProbes" -}}
{{- $headers := list (dict "name" "Host" "value" (include "townhall.probeHost" .)) (dict "name" "X-Forwarded-Proto" "value" "https") -}}
startupProbe:
  httpGet:
    path: /healthz
    port: http
    httpHeaders: {{- toYaml $headers | nindent 6 }}
  periodSeconds: 5
  timeoutSeconds: 5
  failureThreshold: 30
readinessProbe:
  httpGet:
    path: /readyz
    port: http
    httpHeaders: {{- toYaml $headers | nindent 6 }}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
livenessProbe:
  httpGet:
    path: /healthz
    port: http
    httpHeaders: {{- toYaml $headers | nindent 6 }}
  periodSeconds: 20
  timeoutSeconds: 5
  failureThreshold: 6
{{- end }}

{{/* Liveness of the processes without HTTP (worker, scheduler): settings load, the
database answers (`townhall check` alone would not connect). */}}
{{- define "townhall.processProbe" -}}
livenessProbe:
  exec:
    command:
      - townhall
      - shell
      - --no-startup
      - -c
      - "from django.db import connection; connection.ensure_connection()"
  initialDelaySeconds: 30
  periodSeconds: 120
  timeoutSeconds: 60
  failureThreshold: 3
{{- end }}

{{/* One Townhall Deployment. Call with a dict:
  root: $, component: "web", values: .Values.web, command: LIST,
  http: serves HTTP on :8000, media: mounts the uploads, ledger: mounts the seal key,
  extra: more env {name, value}, replicas: fixed count (else values.replicas, none with an
  HPA), recreate: Recreate strategy (the scheduler's one-at-a-time). */}}
{{- define "townhall.deployment" -}}
{{- $root := .root -}}
{{- $values := .values -}}
{{- $component := dict "root" $root "component" .component -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "townhall.fullname" $root }}-{{ .component }}
  labels:
    {{- include "townhall.componentLabels" $component | nindent 4 }}
spec:
  {{- if .replicas }}
  replicas: {{ .replicas }}
  {{- else if not (and $values.autoscaling $values.autoscaling.enabled) }}
  replicas: {{ $values.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  {{- if .recreate }}
  strategy:
    type: Recreate
  {{- end }}
  selector:
    matchLabels:
      {{- include "townhall.componentSelector" $component | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "townhall.componentLabels" $component | nindent 8 }}
        {{- with $root.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        {{- with $root.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- include "townhall.podSecurity" $root | nindent 6 }}
      terminationGracePeriodSeconds: 40
      containers:
        - name: {{ .component }}
          image: {{ include "townhall.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command:
            {{- toYaml .command | nindent 12 }}
          {{- include "townhall.env" (dict "root" $root "extra" .extra "ledger" .ledger) | nindent 10 }}
          {{- if .http }}
          ports:
            - name: http
              containerPort: 8000
              protocol: TCP
          {{- include "townhall.httpProbes" $root | nindent 10 }}
          {{- else }}
          {{- include "townhall.processProbe" $root | nindent 10 }}
          {{- end }}
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          {{- include "townhall.volumeMounts" (dict "root" $root "media" .media "ledger" .ledger) | nindent 10 }}
      {{- include "townhall.volumes" (dict "root" $root "media" .media "ledger" .ledger) | nindent 6 }}
      {{- with $values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
