{{/* SPDX-License-Identifier: Apache-2.0 */}}

{{/* Chart name, at most 63 characters. */}}
{{- define "agentlens.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name, prefixed with the chart name unless it contains it. */}}
{{- define "agentlens.fullname" -}}
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

{{- define "agentlens.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "agentlens.selectorLabels" -}}
app.kubernetes.io/name: {{ include "agentlens.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "agentlens.labels" -}}
helm.sh/chart: {{ include "agentlens.chart" . }}
{{ include "agentlens.selectorLabels" . }}
app.kubernetes.io/version: {{ include "agentlens.imageTag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "agentlens.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion -}}
{{- end }}

{{- define "agentlens.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "agentlens.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret with jwt-secret and admin-password: the user's, or the chart's. */}}
{{- define "agentlens.authSecretName" -}}
{{- .Values.auth.existingSecret | default (include "agentlens.fullname" .) -}}
{{- end }}

{{/* "true" when discovery of Kubernetes Services is on (env.AGENTLENS_KUBERNETES_ENABLED). */}}
{{- define "agentlens.discovery" -}}
{{- $v := index (.Values.env | default dict) "AGENTLENS_KUBERNETES_ENABLED" | default "false" | toString | lower -}}
{{- if has $v (list "true" "yes" "on" "1") }}true{{ end -}}
{{- end }}

{{- define "agentlens.postgres" -}}
{{- if eq .Values.database.dialect "postgres" }}true{{ end -}}
{{- end }}

{{/* The chart's own Secret holds the database password unless existingSecret names another. */}}
{{- define "agentlens.postgresSecretName" -}}
{{- .Values.database.postgres.existingSecret | default (include "agentlens.fullname" .) -}}
{{- end }}

{{- define "agentlens.postgresSecretKey" -}}
{{- if .Values.database.postgres.existingSecret }}
{{- .Values.database.postgres.existingSecretKey }}
{{- else -}}
postgres-password
{{- end }}
{{- end }}

{{/*
Checks that values.schema.json cannot express (it sees one key at a time). A `fail` stops
install, upgrade and template with the message.
*/}}
{{- define "agentlens.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (ne .Values.database.dialect "postgres") }}
{{- fail (printf "replicaCount is %d but database.dialect is %s: several replicas need database.dialect=postgres (SQLite is one file on a ReadWriteOnce volume, one replica only)" (int .Values.replicaCount) .Values.database.dialect) }}
{{- end }}
{{- if eq .Values.database.dialect "postgres" }}
{{- $_ := required "database.postgres.host is required when database.dialect is postgres" .Values.database.postgres.host }}
{{- end }}
{{- with .Values.auth.jwtSecret }}
{{- if lt (len .) 32 }}
{{- fail "auth.jwtSecret must be at least 32 characters (or empty: generated)" }}
{{- end }}
{{- end }}
{{- end }}
