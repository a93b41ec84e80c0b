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

{{/* The platform manifest runs compile against: floe-platform's ConfigMap <fullname>-floe-manifest. */}}
{{- define "floe-jobs.manifestConfigMap" -}}
{{- .Values.platform.manifestConfigMap | default (printf "%s-floe-manifest" .Values.platform.fullname) -}}
{{- end -}}

{{/* env var from the platform's credentials Secret; usage: include "floe-jobs.secretEnv" (list $ "ENV_NAME" "secret-key") */}}
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
{{- $source := printf "%s/%s" ($p.workingDir | default $v.defaults.workingDir) $p.name -}}
{{- /* FLOE_PRODUCT_<PRODUCT>_*: floe.config.principals.product_secret_names */ -}}
{{- $slug := regexReplaceAll "[^A-Z0-9]" ($p.name | upper) "_" -}}
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
      # Compiles the product against the platform's manifest into <product>/target/floe/<manifest
      # name>, then runs it in-process; endpoints come from the manifest only.
      command: [floe, run, {{ $source | quote }}, -m, /etc/floe/manifest.yaml]
      {{- with concat ($v.defaults.extraArgs | default list) ($p.extraArgs | default list) }}
      args:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      env:
        # floe.telemetry: the compile step's spans (the run's follow the compiled artifacts)
        - name: OTEL_SERVICE_NAME
          value: {{ $p.name | quote }}
        - name: OTEL_EXPORTER_OTLP_ENDPOINT
          value: {{ $v.platform.otelEndpoint | default (printf "http://%s-otel:4317" $platform) | quote }}
        {{- /* what the manifest's plugins reference as env:NAME, as floe-platform gives its Dagster pods */}}
        {{- include "floe-jobs.secretEnv" (list $ctx "FLOE_S3_ACCESS_KEY_ID" "s3-access-key") | nindent 8 }}
        {{- include "floe-jobs.secretEnv" (list $ctx "FLOE_S3_SECRET_ACCESS_KEY" "s3-secret-key") | nindent 8 }}
        {{- include "floe-jobs.secretEnv" (list $ctx (printf "FLOE_PRODUCT_%s_CLIENT_ID" $slug) (printf "polaris-%s-client-id" $p.name)) | nindent 8 }}
        {{- include "floe-jobs.secretEnv" (list $ctx (printf "FLOE_PRODUCT_%s_CLIENT_SECRET" $slug) (printf "polaris-%s-client-secret" $p.name)) | nindent 8 }}
        {{- range $name, $key := $v.platform.secretEnv }}
        {{- include "floe-jobs.secretEnv" (list $ctx $name $key) | nindent 8 }}
        {{- end }}
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
        - name: floe-manifest
          mountPath: /etc/floe
          readOnly: true
        # where `floe run` compiles to and the run writes (dbt target and logs, the run log)
        - name: target
          mountPath: {{ printf "%s/target" $source }}
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: floe-manifest
      configMap:
        name: {{ include "floe-jobs.manifestConfigMap" $ctx }}
    - name: target
      emptyDir: {}
    - name: tmp
      emptyDir: {}
{{- end -}}
