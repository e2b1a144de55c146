"""The thin shell: one pulumi_kubernetes resource for one object of the pure core."""
from __future__ import annotations

import re
from typing import Any, Mapping

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes.manifests import CUSTOM_RESOURCES, SecretValue

KINDS = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("v1", "Service"): k8s.core.v1.Service,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("apps/v1", "StatefulSet"): k8s.apps.v1.StatefulSet,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): k8s.autoscaling.v2.HorizontalPodAutoscaler,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
    ("rbac.authorization.k8s.io/v1", "Role"): k8s.rbac.v1.Role,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): k8s.rbac.v1.RoleBinding,
}


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()


def resolve_secrets(value: Any, secrets: Mapping[str, pulumi.Input[str]]) -> Any:
    """Replace SecretValue markers with the secret inputs, always wrapped as Pulumi secrets."""
    if isinstance(value, SecretValue):
        if secrets.get(value.key) is None:
            raise ValueError(f"llmobs:{value.key}: a workload needs this secret but it is not set; "
                             f"`pulumi config set --secret {value.key} ...`")
        return pulumi.Output.secret(secrets[value.key])
    if isinstance(value, dict):
        return {k: resolve_secrets(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_secrets(v, secrets) for v in value]
    return value


# Custom resources of operators the stack can use (their CRDs must be installed).
CUSTOM = set(CUSTOM_RESOURCES)


def resolve_images(value: Any, images: Mapping[str, pulumi.Input[str]]) -> Any:
    """Replace each container image the pure core names by content tag with the image the stack
    built and pushed (its digest): the workload then depends on the push."""
    if isinstance(value, dict):
        return {k: images[v] if k == "image" and isinstance(v, str) and v in images else resolve_images(v, images)
                for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_images(v, images) for v in value]
    return value


def place(resource_name: str, body: dict, opts: pulumi.ResourceOptions,
          secrets: Mapping[str, pulumi.Input[str]] | None = None,
          images: Mapping[str, pulumi.Input[str]] | None = None) -> pulumi.CustomResource:
    if (body["apiVersion"], body["kind"]) in CUSTOM:
        return k8s.apiextensions.CustomResource(resource_name, api_version=body["apiVersion"], kind=body["kind"],
                                                metadata=body["metadata"], spec=body["spec"], opts=opts)
    cls = KINDS.get((body["apiVersion"], body["kind"]))
    if cls is None:
        raise ValueError(f"no resource class for {body['apiVersion']}/{body['kind']}")
    kwargs = {_snake(k): resolve_images(resolve_secrets(v, secrets or {}), images or {})
              for k, v in body.items() if k not in ("apiVersion", "kind")}
    return cls(resource_name, **kwargs, opts=opts)
