{{/* ---------- names ---------- */}}

{{- define "floe.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "floe.fullname" -}}
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

{{/* <fullname>-<suffix>; usage: include "floe.componentName" (list . "polaris") */}}
{{- define "floe.componentName" -}}
{{- $ctx := index . 0 -}}
{{- printf "%s-%s" (include "floe.fullname" $ctx) (index . 1) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "floe.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* ---------- labels ----------
Usage: include "floe.labels" (dict "ctx" . "name" "polaris" "component" "polaris")
name = the application (postgresql, dagster, otel ...), component = its role in the platform. */}}

{{- define "floe.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "floe.labels" -}}
{{ include "floe.selectorLabels" . }}
app.kubernetes.io/part-of: floe
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
helm.sh/chart: {{ include "floe.chart" .ctx }}
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* ---------- images ----------
Usage: include "floe.image" (dict "ctx" . "image" .Values.polaris.image) */}}
{{- define "floe.image" -}}
{{- $registry := .ctx.Values.global.imageRegistry -}}
{{- $tag := .image.tag | default .ctx.Chart.AppVersion | toString -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" $registry .image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "floe.floeImage" -}}
{{- include "floe.image" (dict "ctx" . "image" .Values.floeImage) -}}
{{- end -}}

{{- define "floe.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "floe.podSecurityContext" -}}
{{- with .Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "floe.containerSecurityContext" -}}
{{- with .Values.containerSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "floe.storageClass" -}}
{{- $sc := .persistence.storageClass | default .ctx.Values.global.storageClass -}}
{{- if $sc }}
storageClassName: {{ $sc | quote }}
{{- end }}
{{- end -}}

{{/* ---------- credentials ---------- */}}

{{- define "floe.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "floe.componentName" (list . "credentials")) -}}
{{- end -}}

{{/* env var from the credentials Secret; usage: include "floe.secretEnv" (list . "ENV_NAME" "secret-key") */}}
{{- define "floe.secretEnv" -}}
- name: {{ index . 1 }}
  valueFrom:
    secretKeyRef:
      name: {{ include "floe.secretName" (index . 0) }}
      key: {{ index . 2 }}
{{- end -}}

{{/* Secret data value: the configured value, else the live Secret's, else a new random one.
Usage: include "floe.secretValue" (dict "ctx" . "key" "postgres-password" "value" .Values.secrets.postgresPassword "format" "alnum") */}}
{{- define "floe.secretValue" -}}
{{- $live := lookup "v1" "Secret" .ctx.Release.Namespace (include "floe.secretName" .ctx) -}}
{{- $liveData := dig "data" (dict) $live -}}
{{- if .value -}}
{{- .value | toString | b64enc -}}
{{- else if hasKey $liveData .key -}}
{{- index $liveData .key -}}
{{- else if eq .format "hex16" -}}
{{- randAlphaNum 48 | sha256sum | trunc 16 | b64enc -}}
{{- else if eq .format "hex32" -}}
{{- randAlphaNum 48 | sha256sum | trunc 32 | b64enc -}}
{{- else -}}
{{- randAlphaNum 32 | b64enc -}}
{{- end -}}
{{- end -}}

{{/* Secret keys holding a product's Polaris credentials. */}}
{{- define "floe.productClientIdKey" -}}
{{- printf "polaris-%s-client-id" . -}}
{{- end -}}
{{- define "floe.productClientSecretKey" -}}
{{- printf "polaris-%s-client-secret" . -}}
{{- end -}}

{{/* PRODUCT_SLUG for env var names: customer-360 -> CUSTOMER_360 */}}
{{- define "floe.envSlug" -}}
{{- . | upper | replace "-" "_" | replace "." "_" -}}
{{- end -}}

{{/* ---------- endpoints ---------- */}}

{{- define "floe.postgres.host" -}}
{{- if .Values.postgresql.enabled -}}
{{- include "floe.componentName" (list . "postgresql") -}}
{{- else if .Values.externalDatabase.host -}}
{{- .Values.externalDatabase.host -}}
{{- else -}}
{{- fail "postgresql.enabled=false needs externalDatabase.host (Polaris, Dagster and Marquez store their state in PostgreSQL); set externalDatabase.host or enable postgresql" -}}
{{- end -}}
{{- end -}}

{{- define "floe.postgres.port" -}}
{{- if .Values.postgresql.enabled -}}5432{{- else -}}{{ .Values.externalDatabase.port }}{{- end -}}
{{- end -}}

{{- define "floe.s3.endpoint" -}}
{{- if .Values.seaweedfs.enabled -}}
{{- printf "http://%s:8333" (include "floe.componentName" (list . "seaweedfs")) -}}
{{- else if .Values.storage.endpoint -}}
{{- .Values.storage.endpoint -}}
{{- else -}}
{{- fail "seaweedfs.enabled=false needs storage.endpoint (the S3 endpoint Polaris and the products write Iceberg data to)" -}}
{{- end -}}
{{- end -}}

{{- define "floe.polaris.url" -}}
{{- printf "http://%s:8181" (include "floe.componentName" (list . "polaris")) -}}
{{- end -}}

{{- define "floe.otel.grpcEndpoint" -}}
{{- printf "http://%s:4317" (include "floe.componentName" (list . "otel")) -}}
{{- end -}}

{{- define "floe.marquez.url" -}}
{{- printf "http://%s:5000" (include "floe.componentName" (list . "marquez")) -}}
{{- end -}}

{{- define "floe.catalog.baseLocation" -}}
{{- .Values.polaris.catalog.baseLocation | default (printf "s3://%s/%s" .Values.storage.bucket .Values.polaris.catalog.name) -}}
{{- end -}}

{{/* ---------- products ----------
One Dagster code location; usage: include "floe.codeLocation" (list $ (dict "name" .. "module" .. "product" ..)).
With a module: python_module. Otherwise the product's compiled definitions.py under dagster.productsDir. */}}
{{- define "floe.codeLocation" -}}
{{- $ctx := index . 0 -}}
{{- $loc := index . 1 -}}
{{- $d := $ctx.Values.dagster -}}
{{- if $loc.module -}}
- python_module:
    module_name: {{ $loc.module }}
    attribute: {{ $loc.attribute | default $d.attribute }}
    working_directory: {{ $loc.workingDirectory | default $d.workingDirectory }}
    location_name: {{ $loc.name }}
{{- else -}}
- python_file:
    relative_path: {{ printf "%s/%s/definitions.py" $d.productsDir $loc.product }}
    attribute: {{ $loc.attribute | default $d.attribute }}
    working_directory: {{ $loc.workingDirectory | default $d.workingDirectory }}
    location_name: {{ $loc.name }}
{{- end -}}
{{- end -}}

{{/* Wait for PostgreSQL (init container). */}}
{{- define "floe.waitForPostgres" -}}
- name: wait-for-postgresql
  image: {{ include "floe.image" (dict "ctx" . "image" .Values.postgresql.image) }}
  imagePullPolicy: {{ .Values.postgresql.image.pullPolicy }}
  command:
    - sh
    - -c
    - |
      deadline=$(( $(date +%s) + 600 ))
      until pg_isready -q -h "$PGHOST" -p "$PGPORT"; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
          echo "PostgreSQL at $PGHOST:$PGPORT not ready after 600s" >&2; exit 1
        fi
        sleep 2
      done
  env:
    - name: PGHOST
      value: {{ include "floe.postgres.host" . | quote }}
    - name: PGPORT
      value: {{ include "floe.postgres.port" . | quote }}
  resources:
    {{- toYaml .Values.initContainerResources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.containerSecurityContext | nindent 4 }}
    runAsNonRoot: true
    runAsUser: 70
{{- end -}}

{{/* Polaris / admin tool JDBC connection (database "polaris" on the shared PostgreSQL). */}}
{{- define "floe.polaris.datasourceEnv" -}}
- name: QUARKUS_DATASOURCE_JDBC_URL
  value: {{ printf "jdbc:postgresql://%s:%s/polaris" (include "floe.postgres.host" .) (include "floe.postgres.port" .) | quote }}
- name: QUARKUS_DATASOURCE_USERNAME
  value: {{ .Values.postgresql.username | quote }}
{{ include "floe.secretEnv" (list . "QUARKUS_DATASOURCE_PASSWORD" "postgres-password") }}
{{- end -}}

{{/* Environment of every floe runtime container (Dagster webserver/daemon and the runs they
launch): service endpoints plus credentials, the latter only as secretKeyRef. */}}
{{- define "floe.runtimeEnv" -}}
- name: DAGSTER_HOME
  value: /opt/dagster/dagster_home
- name: DAGSTER_PG_HOST
  value: {{ include "floe.postgres.host" . | quote }}
- name: DAGSTER_PG_PORT
  value: {{ include "floe.postgres.port" . | quote }}
- name: DAGSTER_PG_DB
  value: dagster
- name: DAGSTER_PG_USERNAME
  value: {{ .Values.postgresql.username | quote }}
{{ include "floe.secretEnv" (list . "DAGSTER_PG_PASSWORD" "postgres-password") }}
- name: FLOE_S3_ENDPOINT
  value: {{ include "floe.s3.endpoint" . | quote }}
- name: FLOE_S3_REGION
  value: {{ .Values.storage.region | quote }}
- name: FLOE_S3_BUCKET
  value: {{ .Values.storage.bucket | quote }}
{{ include "floe.secretEnv" (list . "AWS_ACCESS_KEY_ID" "s3-access-key") }}
{{ include "floe.secretEnv" (list . "AWS_SECRET_ACCESS_KEY" "s3-secret-key") }}
- name: AWS_REGION
  value: {{ .Values.storage.region | quote }}
{{- if .Values.polaris.enabled }}
- name: FLOE_POLARIS_URI
  value: {{ printf "%s/api/catalog" (include "floe.polaris.url" .) | quote }}
- name: FLOE_POLARIS_WAREHOUSE
  value: {{ .Values.polaris.catalog.name | quote }}
{{- range .Values.products }}
{{- $slug := include "floe.envSlug" .name }}
{{ include "floe.secretEnv" (list $ (printf "POLARIS_%s_CLIENT_ID" $slug) (include "floe.productClientIdKey" .name)) }}
{{ include "floe.secretEnv" (list $ (printf "POLARIS_%s_CLIENT_SECRET" $slug) (include "floe.productClientSecretKey" .name)) }}
{{- end }}
{{- end }}
{{- if .Values.otel.enabled }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ include "floe.otel.grpcEndpoint" . | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: grpc
{{- end }}
{{- if .Values.marquez.enabled }}
- name: OPENLINEAGE_URL
  value: {{ include "floe.marquez.url" . | quote }}
{{- end }}
{{- if .Values.demo.enabled }}
- name: FLOE_DEMO
  value: "true"
- name: FLOE_SNAPSHOT_KEEP_LAST
  value: {{ .Values.demo.snapshotKeepLast | quote }}
{{- end }}
{{- end -}}
