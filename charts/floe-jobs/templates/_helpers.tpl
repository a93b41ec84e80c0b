{{- define "floe-jobs.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "floe-jobs.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* usage: include "floe-jobs.labels" (dict "ctx" $ "component" "data-product" "product" "customer-360") */}}
{{- define "floe-jobs.selectorLabels" -}}
app.kubernetes.io/name: {{ .ctx.Chart.Name }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- with .product }}
floe.dev/product: {{ . }}
{{- end }}
{{- end -}}

{{- define "floe-jobs.labels" -}}
{{ include "floe-jobs.selectorLabels" . }}
app.kubernetes.io/part-of: floe
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
helm.sh/chart: {{ include "floe-jobs.chart" .ctx }}
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "floe-jobs.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "floe-jobs.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "floe-jobs.secretName" -}}
{{- .Values.platform.credentialsSecret | default (printf "%s-credentials" .Values.platform.fullname) -}}
{{- end -}}

{{- define "floe-jobs.secretEnv" -}}
- name: {{ index . 1 }}
  valueFrom:
    secretKeyRef:
      name: {{ include "floe-jobs.secretName" (index . 0) }}
      key: {{ index . 2 }}
{{- end -}}

{{/* The pod template of one product's run; usage: include "floe-jobs.podSpec" (dict "ctx" $ "product" .) */}}
{{- define "floe-jobs.podSpec" -}}
{{- $ctx := .ctx -}}
{{- $p := .product -}}
{{- $v := $ctx.Values -}}
{{- $platform := $v.platform.fullname -}}
{{- $image := merge (dict) ($p.image | default (dict)) $v.image -}}
{{- $slug := $p.name | upper | replace "-" "_" -}}
metadata:
  labels:
    {{- include "floe-jobs.labels" (dict "ctx" $ctx "component" "data-product" "product" $p.name) | nindent 4 }}
spec:
  restartPolicy: Never
  serviceAccountName: {{ include "floe-jobs.serviceAccountName" $ctx }}
  automountServiceAccountToken: false
  {{- with $v.imagePullSecrets }}
  imagePullSecrets:
    {{- range . }}
    - name: {{ . }}
    {{- end }}
  {{- end }}
  {{- with $v.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: floe-run
      image: {{ printf "%s:%s" $image.repository ($image.tag | default $ctx.Chart.AppVersion | toString) }}
      imagePullPolicy: {{ $image.pullPolicy | default "IfNotPresent" }}
      workingDir: {{ $p.workingDir | default $v.defaults.workingDir }}
      command: [floe, run, {{ $p.name | quote }}]
      {{- with concat ($v.defaults.extraArgs | default list) ($p.extraArgs | default list) }}
      args:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      env:
        - name: FLOE_PRODUCT
          value: {{ $p.name | quote }}
        - name: OTEL_SERVICE_NAME
          value: {{ $p.name | quote }}
        - name: FLOE_POLARIS_URI
          value: {{ $v.platform.endpoints.polaris | default (printf "http://%s-polaris:8181/api/catalog" $platform) | quote }}
        - name: FLOE_POLARIS_WAREHOUSE
          value: {{ $v.platform.warehouse | quote }}
        - name: FLOE_S3_ENDPOINT
          value: {{ $v.platform.endpoints.s3 | default (printf "http://%s-seaweedfs:8333" $platform) | quote }}
        - name: FLOE_S3_BUCKET
          value: {{ $v.platform.bucket | quote }}
        - name: FLOE_S3_REGION
          value: {{ $v.platform.region | quote }}
        - name: AWS_REGION
          value: {{ $v.platform.region | quote }}
        - name: OTEL_EXPORTER_OTLP_ENDPOINT
          value: {{ $v.platform.endpoints.otel | default (printf "http://%s-otel:4317" $platform) | quote }}
        - name: OPENLINEAGE_URL
          value: {{ $v.platform.endpoints.openlineage | default (printf "http://%s-marquez:5000" $platform) | quote }}
        {{- include "floe-jobs.secretEnv" (list $ctx "AWS_ACCESS_KEY_ID" "s3-access-key") | nindent 8 }}
        {{- include "floe-jobs.secretEnv" (list $ctx "AWS_SECRET_ACCESS_KEY" "s3-secret-key") | nindent 8 }}
        {{- include "floe-jobs.secretEnv" (list $ctx (printf "POLARIS_%s_CLIENT_ID" $slug) (printf "polaris-%s-client-id" $p.name)) | nindent 8 }}
        {{- include "floe-jobs.secretEnv" (list $ctx (printf "POLARIS_%s_CLIENT_SECRET" $slug) (printf "polaris-%s-client-secret" $p.name)) | nindent 8 }}
        {{- range $k, $val := merge (dict) ($p.env | default (dict)) $v.defaults.env }}
        - name: {{ $k }}
          value: {{ $val | toString | quote }}
        {{- end }}
        - name: HOME
          value: /tmp
      resources:
        {{- toYaml ($p.resources | default $v.defaults.resources) | nindent 8 }}
      {{- with $v.containerSecurityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: tmp
      emptyDir: {}
{{- end -}}
