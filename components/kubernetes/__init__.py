"""The Kubernetes target: `manifests` (pure: Settings -> Kubernetes objects),
`place` (one Pulumi resource per object), one ComponentResource per service
(`workloads`) and the top-level `KubernetesStack`."""
from components.kubernetes.stack import KubernetesStack  # noqa: F401
from components.kubernetes.workloads import (Alertmanager, Collector, Grafana, Jaeger, Loki,  # noqa: F401
                                             Prometheus, Tempo)
