{{/*
Names are fixed rather than derived from the release: the SPEC names the controller's
Service (ambit-controller) and the trust-root ConfigMap (ambit-root-ca), agents and
waypoints dial and verify those names, and one mesh runs per cluster (the CRDs and
ClusterRoles are cluster-wide anyway).
*/}}
{{- define "ambit.controller" -}}ambit-controller{{- end -}}
{{- define "ambit.nodeAgent" -}}ambit-node-agent{{- end -}}
{{- define "ambit.rootCaConfigMap" -}}ambit-root-ca{{- end -}}
{{- define "ambit.caSecret" -}}ambit-ca{{- end -}}

{{- define "ambit.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if hasPrefix "sha256:" $tag -}}
{{ .Values.image.repository }}@{{ $tag }}
{{- else if hasPrefix "@" $tag -}}
{{ .Values.image.repository }}{{ $tag }}
{{- else -}}
{{ .Values.image.repository }}:{{ $tag }}
{{- end -}}
{{- end -}}

{{- define "ambit.labels" -}}
app.kubernetes.io/part-of: ambit
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Selectors name the component only: one mesh per cluster. */}}
{{- define "ambit.controllerSelector" -}}
app.kubernetes.io/name: ambit-controller
{{- end -}}

{{- define "ambit.nodeAgentSelector" -}}
app.kubernetes.io/name: ambit-node-agent
{{- end -}}

{{/* The controller's SPIFFE ID, which agents check on its serving certificate. */}}
{{- define "ambit.controllerIdentity" -}}
spiffe://{{ .Values.trustDomain }}/ns/{{ .Release.Namespace }}/sa/{{ include "ambit.controller" . }}
{{- end -}}

{{- define "ambit.controllerAddress" -}}
{{ include "ambit.controller" . }}.{{ .Release.Namespace }}.svc:15010
{{- end -}}

