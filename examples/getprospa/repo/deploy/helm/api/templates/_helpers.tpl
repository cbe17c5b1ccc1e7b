{{/*
Helpers shared by every template. Values are data: no template ever passes a
value through `tpl`, so a value that looks like a template stays text.
*/}}

{{/* The release name is the app name (docs/contracts.md); resources are named after it. */}}
{{- define "app.fullname" -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "app.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The Kubernetes recommended labels. Callers add app.kubernetes.io/component. */}}
{{- define "app.labels" -}}
{{ include "app.selectorLabels" . }}
{{- with .Values.image.tag }}
app.kubernetes.io/version: {{ . | trunc 63 | trimSuffix "-" | quote }}
{{- end }}
{{- with .Values.app.project }}
app.kubernetes.io/part-of: {{ . }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The image: repository:tag@digest. Pulled by digest, never by a tag alone (a tag can be
moved); the tag is the git SHA, for people reading the pod spec. Never latest. */}}
{{- define "app.image" -}}
{{- $repository := .Values.image.repository | default .Values.platform.imageRepository -}}
{{- $tag := required "image.tag is required: deploy the git SHA the image was built from (make deploy passes --set-string image.tag=...)" .Values.image.tag -}}
{{- if eq $tag "latest" -}}
{{- fail "image.tag must not be latest: deploy an immutable git SHA tag" -}}
{{- end -}}
{{- $digest := required "image.digest is required: deploys are by digest, never by a tag alone (make deploy passes --set-string image.digest=sha256:...)" .Values.image.digest -}}
{{- printf "%s:%s@%s" $repository $tag $digest -}}
{{- end -}}

{{/* The restricted Pod Security profile: pod level. */}}
{{- define "app.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The restricted Pod Security profile: container level. */}}
{{- define "app.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "app.resources" -}}
requests:
  cpu: {{ .Values.resources.cpu | quote }}
  memory: {{ .Values.resources.memory | quote }}
limits:
  memory: {{ .Values.resources.memory | quote }}
  {{- with .Values.resources.cpuLimit }}
  cpu: {{ . | quote }}
  {{- end }}
{{- end -}}

{{/*
The shutdown budget, from values.yaml shutdown only: the preStop pause, then (after
SIGTERM) the app's drain (readiness 503, still serving) and its graceful stop, plus a
margin. The kubelet kills the container when it runs out.
*/}}
{{- define "app.terminationGracePeriodSeconds" -}}
{{- $s := .Values.shutdown -}}
{{- add (int $s.preStopSleepSeconds) (int $s.drainSeconds) (int $s.gracefulTimeoutSeconds) (int $s.marginSeconds) -}}
{{- end -}}

{{/* Does the app take traffic (api, web)? Workers only answer health checks. */}}
{{- define "app.serves" -}}
{{- if ne .Values.app.kind "worker" }}true{{ end -}}
{{- end -}}

{{/* Does the app use the database? Then the platform values must name it. */}}
{{- define "app.usesDatabase" -}}
{{- if .Values.app.database -}}
{{- $p := .Values.platform -}}
{{- $_ := required "platform.databaseHost is null but the app uses the database: run terraform apply for this environment first" $p.databaseHost -}}
{{- $_ := required "platform.databasePort is null but the app uses the database" $p.databasePort -}}
{{- $_ := required "platform.databaseName is null but the app uses the database" $p.databaseName -}}
{{- $_ := required "platform.databaseSecretArn is null but the app uses the database" $p.databaseSecretArn -}}
{{- $_ := required "platform.databaseMigratorSecretArn is null but the app uses the database: run terraform apply for this environment first (its app_values name the app's migrator user)" $p.databaseMigratorSecretArn -}}
true
{{- end -}}
{{- end -}}

{{/*
The plain settings as a JSON object (the ConfigMap, and the migration Job's env).
Contract variables (docs/contracts.md) win over the spec's env; the spec's env wins over
the defaults (CORS_ALLOWED_ORIGINS).
*/}}
{{- define "app.config" -}}
{{- $contract := dict "APP_ENV" .Values.app.environment "APP_TIER" .Values.app.tier "PORT" (toString .Values.app.port) "APP_INTERNET_FACING" (toString .Values.app.public) -}}
{{- if .Values.app.public -}}
{{- $devMode := lower (toString (get .Values.app.env "AUTH_DEV_MODE" | default "")) -}}
{{- if not (has $devMode (list "" "0" "false" "no" "off")) -}}
{{- fail "app.env.AUTH_DEV_MODE is set but the app is public (internet-facing): dev tokens would let anyone in; remove it" -}}
{{- end -}}
{{- end -}}
{{- $_ := set $contract "SHUTDOWN_DELAY_SECONDS" (toString .Values.shutdown.drainSeconds) -}}
{{- $_ := set $contract "GUNICORN_GRACEFUL_TIMEOUT" (toString .Values.shutdown.gracefulTimeoutSeconds) -}}
{{- if include "app.usesDatabase" . -}}
{{- $p := .Values.platform -}}
{{- $_ := set $contract "DATABASE_HOST" $p.databaseHost -}}
{{- $_ := set $contract "DATABASE_PORT" (toString $p.databasePort) -}}
{{- $_ := set $contract "DATABASE_NAME" $p.databaseName -}}
{{- $_ := set $contract "DATABASE_CREDENTIALS_FILE" "/var/run/secrets/database/credentials.json" -}}
{{- end -}}
{{- $defaults := dict -}}
{{- with .Values.app.corsAllowedOrigins -}}
{{- $_ := set $defaults "CORS_ALLOWED_ORIGINS" . -}}
{{- end -}}
{{- toJson (merge $contract .Values.app.env $defaults) -}}
{{- end -}}

{{/* The credentials file: the database user's secret, JSON {engine, host, port, dbname, username, password}. */}}
{{- define "app.databaseVolume" -}}
- name: database
  secret:
    secretName: {{ .secretName }}
    defaultMode: 0440
    items:
      - key: credentials.json
        path: credentials.json
{{- end -}}

{{/* Egress every app pod needs: cluster DNS. */}}
{{- define "app.egressDns" -}}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
{{- end -}}

{{/* Egress to MySQL on RDS: the database subnets only, on the database port only. */}}
{{- define "app.egressDatabase" -}}
- to:
    {{- range (required "platform.databaseCidrs is null but the app uses the database: run terraform apply for this environment first" .Values.platform.databaseCidrs) }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  ports:
    - protocol: TCP
      port: {{ .Values.platform.databasePort }}
{{- end -}}
