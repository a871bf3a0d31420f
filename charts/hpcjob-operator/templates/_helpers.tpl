{{- define "hpcjob-operator.name" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "hpcjob-operator.labels" -}}
app.kubernetes.io/name: hpcjob-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "hpcjob-operator.selector" -}}
app.kubernetes.io/name: hpcjob-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
