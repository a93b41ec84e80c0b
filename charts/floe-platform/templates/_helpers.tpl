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

{{- define "floe.dagster.url" -}}
{{- printf "http://%s:%d" (include "floe.componentName" (list . "dagster-webserver")) (int .Values.dagster.webserver.service.port) -}}
{{- end -}}

{{- define "floe.catalog.baseLocation" -}}
{{- .Values.polaris.catalog.baseLocation | default (printf "s3://%s/%s" .Values.storage.bucket .Values.polaris.catalog.name) -}}
{{- end -}}

{{/* ---------- platform manifest ----------
manifest.yaml for `floe compile` in this cluster (ConfigMap <fullname>-floe-manifest): the endpoint
plugins point at this release's Services, credentials are env: references to variables
floe.runtimeEnv gives the Dagster pods. .Values.manifest.plugins is laid over the generated plugins,
slot by slot: same (or no) `type` merges its keys, another `type` replaces the slot. */}}
{{- define "floe.manifest" -}}
{{- $m := .Values.manifest -}}
{{- $plugins := dict -}}
{{- $_ := set $plugins "orchestrator" (dict "type" "dagster" "url" (include "floe.dagster.url" .) "max_concurrent_runs" (int .Values.dagster.maxConcurrentRuns)) -}}
{{- if .Values.polaris.enabled -}}
{{- $_ := set $plugins "catalog" (dict "type" "polaris" "uri" (printf "%s/api/catalog" (include "floe.polaris.url" .)) "warehouse" .Values.polaris.catalog.name "client_id" "env:FLOE_POLARIS_ROOT_CLIENT_ID" "client_secret" "env:FLOE_POLARIS_ROOT_CLIENT_SECRET" "principals" "per-product") -}}
{{- else if not (dig "plugins" "catalog" "" $m) -}}
{{- fail "polaris.enabled=false needs manifest.plugins.catalog (the Iceberg catalog the products' runs write to, e.g. {type: iceberg-rest, uri: ..., warehouse: ..., client_id: env:NAME, client_secret: env:NAME} with NAME from manifest.secretEnv); set it or enable polaris" -}}
{{- end -}}
{{- $_ := set $plugins "storage" (dict "type" "s3" "endpoint" (include "floe.s3.endpoint" .) "bucket" .Values.storage.bucket "region" .Values.storage.region "path_style_access" .Values.storage.pathStyleAccess "access_key_id" "env:FLOE_S3_ACCESS_KEY_ID" "secret_access_key" "env:FLOE_S3_SECRET_ACCESS_KEY") -}}
{{- if .Values.otel.enabled -}}
{{- $telemetry := dict "type" "otlp" "endpoint" (include "floe.otel.grpcEndpoint" .) "protocol" "grpc" -}}
{{- if .Values.jaeger.enabled -}}
{{- $_ := set $telemetry "type" "jaeger" -}}
{{- $_ := set $telemetry "query_url" (printf "http://%s:16686" (include "floe.componentName" (list . "jaeger-query"))) -}}
{{- end -}}
{{- $_ := set $plugins "telemetry_backend" $telemetry -}}
{{- end -}}
{{- if .Values.marquez.enabled -}}
{{- $_ := set $plugins "lineage_backend" (dict "type" "marquez" "url" (include "floe.marquez.url" .)) -}}
{{- end -}}
{{- if .Values.cube.enabled -}}
{{- $_ := set $plugins "semantic_layer" (dict "type" "cube" "api_url" (printf "http://%s:4000/cubejs-api/v1" (include "floe.componentName" (list . "cube-api")))) -}}
{{- end -}}
{{- $_ := set $plugins "rbac" (dict "type" "k8s" "namespace" .Release.Namespace) -}}
{{- range $slot, $cfg := $m.plugins -}}
{{- $generated := get $plugins $slot -}}
{{- if and (kindIs "map" $cfg) (kindIs "map" $generated) (eq (get $cfg "type" | default $generated.type) $generated.type) -}}
{{- $_ := set $plugins $slot (mergeOverwrite (deepCopy $generated) $cfg) -}}
{{- else -}}
{{- $_ := set $plugins $slot $cfg -}}
{{- end -}}
{{- end -}}
apiVersion: floe.dev/v1
kind: Manifest
metadata:
  name: {{ $m.metadata.name | default (include "floe.fullname" .) }}
  version: {{ $m.metadata.version | quote }}
  owner: {{ $m.metadata.owner | quote }}
  {{- with $m.metadata.description }}
  description: {{ . | quote }}
  {{- end }}
plugins:
  {{- toYaml $plugins | nindent 2 }}
{{- with $m.approved }}
approved:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $m.governance }}
governance:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $m.artifacts }}
artifacts:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "floe.manifestConfigMap" -}}
{{- .Values.manifest.existingConfigMap | default (include "floe.componentName" (list . "floe-manifest")) -}}
{{- end -}}

{{/* Products the Dagster pods compile at start, space-separated: every product without a `module`,
and every dagster.codeLocations entry naming a `product`. */}}
{{- define "floe.compiledProducts" -}}
{{- $names := list -}}
{{- range .Values.products -}}
{{- if not .module -}}{{- $names = append $names .name -}}{{- end -}}
{{- end -}}
{{- range .Values.dagster.codeLocations -}}
{{- if and .product (not .module) -}}{{- $names = append $names .product -}}{{- end -}}
{{- end -}}
{{- $names | uniq | join " " -}}
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
launch). Endpoints are not here: runs read them from the compiled artifacts (floe.manifest). What is
here: Dagster's own database settings, and the credentials the manifest references as env:NAME,
only as secretKeyRef. */}}
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
{{ include "floe.secretEnv" (list . "FLOE_S3_ACCESS_KEY_ID" "s3-access-key") }}
{{ include "floe.secretEnv" (list . "FLOE_S3_SECRET_ACCESS_KEY" "s3-secret-key") }}
{{- if .Values.polaris.enabled }}
{{- /* catalog.principals: per-product: each product's artifacts reference its own principal */}}
{{- range .Values.products }}
{{- $slug := include "floe.envSlug" .name }}
{{ include "floe.secretEnv" (list $ (printf "FLOE_PRODUCT_%s_CLIENT_ID" $slug) (include "floe.productClientIdKey" .name)) }}
{{ include "floe.secretEnv" (list $ (printf "FLOE_PRODUCT_%s_CLIENT_SECRET" $slug) (include "floe.productClientSecretKey" .name)) }}
{{- end }}
{{- end }}
{{- range $name, $key := .Values.manifest.secretEnv }}
{{ include "floe.secretEnv" (list $ $name $key) }}
{{- end }}
{{- if .Values.otel.enabled }}
{{- /* the OpenTelemetry SDK's own defaults (floe.telemetry falls back to them outside a run) */}}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ include "floe.otel.grpcEndpoint" . | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: grpc
{{- end }}
{{- end -}}
