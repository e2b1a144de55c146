"""The Kubernetes target against a real kube-apiserver (tests/kube_apiserver.py): for each
stack variant, every object of the pure core (`manifests.stack_manifests`, the dicts the
Pulumi shell places; test_kubernetes checks that under mocks) is server-side applied in the
variant's own namespace, which the stack labels PodSecurity `restricted` (enforce).

Checks: accepted without warnings; every pod template accepted as a Pod (dry run: no kubelet);
the access reviews `kubectl auth can-i` sends, per service account, against LEAST_PRIVILEGE
(and kubectl's own answers, the same, on one variant); a second apply changes
nothing; immutable StatefulSet fields and the replace plan (workloads.replace_plan); the CRDs
the objects need (manifests.required_crds), asked of the server before and after they are installed.
"""
from __future__ import annotations

import copy
import json
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jsonschema
import pytest
import yaml

import kube_apiserver
from components.kubernetes import manifests
from components.kubernetes.workloads import replace_plan
from settings import validate

ROOT = Path(__file__).resolve().parent.parent
MANAGER = "llmobs-test"
FIELD_MANAGER = f"--field-manager={MANAGER}"
# The project's own collector image, as a Kubernetes stack must name it (with a digest).
IMAGE = {"repository": "ghcr.io/example/llmobs-collector", "tag": "0.161.0-llmobs",
         "digest": "sha256:" + "5e1f" * 16}
ONE_TIER = {"kubernetes": {"two_tier": {"enabled": False}}, "collector": {"replicas_min": 1, "replicas_max": 1}}


def _stack(name: str) -> dict:
    config = yaml.safe_load((ROOT / name).read_text())["config"]
    return {k.removeprefix("llmobs:"): v for k, v in config.items()}


def _prod() -> dict:
    return _stack("Pulumi.prod.yaml")


def _variant(name: str, config: dict, namespace: str | None = None) -> dict:
    """Each variant in a namespace of its own, with the project's collector image (the prod example
    keeps its collector.registry: the pure render names the content tag the push will carry)."""
    out = copy.deepcopy(config)
    out.update(target="kubernetes", namespace=namespace or f"v-{name}")
    if "registry" not in out.get("collector", {}):
        out.setdefault("collector", {})["image"] = IMAGE
    return out


VARIANTS = {name: _variant(name, config) for name, config in {
    # two tier, tempo, TLS by cert-manager, object storage, remote write
    "prod": _prod(),
    # two tier, tempo, no TLS, no persistent queue, no debug store (the defaults)
    "two-tier": {},
    "one-tier-jaeger": {**ONE_TIER, "traces": {"backend": "jaeger"}},
    "one-tier-tls-secret-queue": {**copy.deepcopy(ONE_TIER), "ingest": {"tls": {"mode": "secret"}},
                                  "collector": {"replicas_min": 1, "replicas_max": 1, "persistent_queue": True}},
    "two-tier-jaeger-queue-debug": {"traces": {"backend": "jaeger"}, "collector": {"persistent_queue": True},
                                    "debug": {"enabled": True, "tenants": ["acme"], "span_content": True}},
    # External backends (docs/external-backends.md): the kube-prometheus-stack example (PrometheusRule,
    # ServiceMonitor, AlertmanagerConfig, sidecar dashboards; Tempo and Loki bundled), and a mix of the
    # operator's Prometheus (PodMonitor, every receiver kind), the bundled Grafana and Jaeger, external Loki.
    "kube-prometheus": _stack("Pulumi.kube-prometheus.yaml"),
    # The Grafana Cloud example: the gateway only (everything else external, outside the cluster).
    "grafana-cloud": _stack("Pulumi.grafana-cloud.yaml"),
    "mixed-operator-podmonitor": {
        **ONE_TIER, "traces": {"backend": "jaeger"},
        "backends": {"metrics": {"mode": "external", "remote_write_url": "http://prom.monitoring.svc:9090/api/v1/write",
                                 "query_url": "http://prom.monitoring.svc:9090", "rules": "prometheus-operator",
                                 "monitor": "podmonitor", "selector_labels": {"release": "kps"}},
                     "alerting": {"mode": "external", "kind": "alertmanager-config",
                                  "selector_labels": {"alertmanagerConfig": "llmobs"}},
                     "logs": {"mode": "external", "endpoint": "https://logs.example/otlp", "auth": "basic",
                              "query_url": "https://logs.example"}},
        "alerts": {"receivers": {"kind": "webhook", "critical": "pagerduty", "info": "email",
                                 "email": {"to": "oncall@example.com", "from_address": "llmobs@example.com",
                                           "smarthost": "smtp.example.com:587", "auth_username": "llmobs"}}}},
    # Bundled Prometheus, Alertmanager and Grafana; traces to a Tempo in another namespace (plain gRPC),
    # logs to a vendor with a token (the gateway's egress to a namespace and to the outside).
    "mixed-external-traces-logs": {
        "backends": {"traces": {"mode": "external", "endpoint": "tempo-distributor.tracing.svc:4317", "insecure": True,
                                "headers": {"X-Scope-OrgID": "llm"}, "query_url": "http://tempo-query.tracing.svc:3200"},
                     "logs": {"mode": "external", "endpoint": "https://logs.example/otlp", "auth": "bearer",
                              "query_url": "https://logs.example"}}},
}.items()}


def plain(value):
    """Secret markers -> a placeholder (the Pulumi shell puts the secret inputs there)."""
    if isinstance(value, manifests.SecretValue):
        return "placeholder"
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def objects(config: dict) -> list[dict]:
    return [plain(m.body) for group in manifests.stack_manifests(validate(config)).values() for m in group]


def dump(docs: list[dict]) -> str:
    """A JSON stream, which kubectl reads as it reads YAML documents: PyYAML's dump of a variant's
    8 MB of objects cost about 1 CPU-s, and each kubectl process parsed that YAML again."""
    return "\n".join(json.dumps(d) for d in docs)


def apply(server: kube_apiserver.ApiServer, docs: list[dict], *extra: str, check: bool = False):
    return server.kubectl("apply", "--server-side", FIELD_MANAGER, "--warnings-as-errors", *extra, "-f", "-",
                          stdin=dump(docs), check=check)


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory):
    server = kube_apiserver.start(tmp_path_factory.mktemp("apiserver"))
    try:
        _without_crds(server)
        server.install_crds()
        yield server
    finally:
        server.stop()


# name -> ({crd: `kubectl get crd` before the CRDs}, the variant's apply before the CRDs)
_NO_CRDS: dict[str, tuple[dict, object]] = {}


def _without_crds(server: kube_apiserver.ApiServer) -> None:
    """What a cluster without the CRDs answers, asked of this server before they are installed, each
    variant in a namespace of its own (a second server cost about 15 CPU-s)."""
    for name, config in VARIANTS.items():
        docs = objects({**config, "namespace": f"no-crds-{name}"})
        crds = manifests.required_crds(manifests.stack_manifests(validate(config)))
        gets = {crd: server.kubectl("get", "crd", crd, check=False) for crd in crds}
        _NO_CRDS[name] = (gets, apply(server, docs))
    # kubectl's discovery cache knows no CRD group yet: the applies after the install start afresh.
    shutil.rmtree(server.kubeconfig.parent / "kube-cache", ignore_errors=True)


_APPLIED: dict[str, object] = {}


@pytest.fixture
def applied(apiserver, request):
    """(objects, first apply) of the variant, applied once per module."""
    name = request.param
    if name not in _APPLIED:
        docs = objects(VARIANTS[name])
        _APPLIED[name] = (docs, apply(apiserver, docs))
    docs, run = _APPLIED[name]
    assert run.returncode == 0 and not run.stderr, f"{name}: apply failed:\n{run.stderr}"
    return name, docs


def by_variant(test):
    return pytest.mark.parametrize("applied", list(VARIANTS), indirect=True)(test)


@by_variant
def test_every_object_is_accepted_without_warnings_in_a_restricted_namespace(apiserver, applied):
    name, docs = applied
    ns = f"v-{name}"
    labels = yaml.safe_load(apiserver.kubectl("get", "namespace", ns, "-o", "yaml").stdout)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    stored = apiserver.kubectl("get", "-f", "-", "-o", "name", stdin=dump(docs)).stdout.split()
    assert len(stored) == len(docs)


def pod_of(workload: dict) -> dict:
    """The Pod its controller would create (a StatefulSet's claims as that pod's claims)."""
    name, template = workload["metadata"]["name"], copy.deepcopy(workload["spec"]["template"])
    spec = template["spec"]
    for claim in workload["spec"].get("volumeClaimTemplates", []):
        claim_name = claim["metadata"]["name"]
        spec["volumes"].append({"name": claim_name, "persistentVolumeClaim": {"claimName": f"{claim_name}-{name}-0"}})
    metadata = {**template["metadata"], "name": f"{name}-0", "namespace": workload["metadata"]["namespace"]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


@by_variant
def test_every_pod_template_is_accepted_as_a_pod(apiserver, applied):
    name, docs = applied
    pods = [pod_of(o) for o in docs if o["kind"] in ("Deployment", "StatefulSet")]
    assert len(pods) >= 2   # the gateway's two tiers at least (the Grafana Cloud example runs nothing else)
    run = apiserver.kubectl("create", "--dry-run=server", "--warnings-as-errors", "-o", "name", "-f", "-",
                            stdin=dump(pods), check=False)
    assert run.returncode == 0 and not run.stderr, run.stderr
    assert len(run.stdout.split()) == len(pods)
    # The namespace enforces `restricted`: a pod that breaks it is refused there.
    bad = copy.deepcopy(pods[0])
    bad["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    run = apiserver.kubectl("create", "--dry-run=server", "-f", "-", stdin=dump([bad]), check=False)
    assert run.returncode != 0 and 'violates PodSecurity "restricted' in run.stderr, run.stderr


# (verb, resource, namespace: None = the stack's, "" = cluster scope, else that one)
PROBES = [(verb, res, None) for verb in ("get", "list", "watch")
          for res in ("endpoints", "endpointslices.discovery.k8s.io")]
PROBES += [("get", "secrets", None), ("list", "secrets", None), ("get", "configmaps", None),
           ("update", "configmaps", None), ("list", "pods", None), ("create", "pods", None),
           ("create", "pods/exec", None), ("patch", "deployments.apps", None),
           ("create", "serviceaccounts/token", None), ("list", "endpoints", "default"),
           ("list", "nodes", ""), ("list", "namespaces", "")]
# What each service account may do, written by hand; every other probe must be refused.
# Only the two-tier agents read endpoints (the load_balancing exporter's k8s resolver), in
# their own namespace; endpointslices get/list/watch too.
RESOLVER = {("get", "endpoints", None), ("list", "endpoints", None), ("watch", "endpoints", None),
            ("get", "endpointslices.discovery.k8s.io", None), ("list", "endpointslices.discovery.k8s.io", None),
            ("watch", "endpointslices.discovery.k8s.io", None)}
LEAST_PRIVILEGE = {("collector", True): RESOLVER}


def _accounts(docs: list[dict]) -> list[str]:
    return sorted(o["metadata"]["name"] for o in docs if o["kind"] == "ServiceAccount")


def _who(ns: str, account: str) -> tuple[str, list[str]]:
    """The user and groups a pod of that service account authenticates as."""
    return f"system:serviceaccount:{ns}:{account}", ["system:serviceaccounts", f"system:serviceaccounts:{ns}"]


def _scope(ns: str, where: str | None) -> str | None:
    return ns if where is None else (where or None)


def _reviewed(apiserver, ns: str, case) -> bool:
    """The access review's answer for (account, probe) in the variant's namespace."""
    account, (verb, resource, where) = case
    return apiserver.can_i(verb, resource, _scope(ns, where), *_who(ns, account))


@by_variant
def test_service_accounts_have_least_privilege(apiserver, applied):
    name, docs = applied
    ns, two_tier = f"v-{name}", validate(VARIANTS[name]).two_tier
    accounts = _accounts(docs)
    assert "collector" in accounts
    cases = [(a, p) for a in accounts for p in PROBES]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda case: _reviewed(apiserver, ns, case), cases))
    allowed = {a: {p for (acc, p), yes in zip(cases, answers) if yes and acc == a} for a in accounts}
    assert allowed == {a: LEAST_PRIVILEGE.get((a, two_tier), set()) for a in accounts}


@pytest.mark.parametrize("applied", ["two-tier"], indirect=True)
def test_kubectl_auth_can_i_answers_as_the_access_reviews_do(apiserver, applied):
    """The least-privilege test asks the server directly (a kubectl process per probe cost about 130
    CPU-s a run); kubectl's own answers on the two-tier variant (where the resolver's probes are
    allowed and the rest refused) must be the same."""
    name, docs = applied
    ns = f"v-{name}"

    def kubectl_says(account: str, probe) -> bool:
        verb, resource, where = probe
        scope = _scope(ns, where)
        user, groups = _who(ns, account)
        run = apiserver.kubectl("auth", "can-i", verb, resource, *(["-n", scope] if scope else []), f"--as={user}",
                                *(f"--as-group={g}" for g in groups), check=False)
        answer = run.stdout.split()[:1]   # "yes", or "no" and maybe " - <reason>"
        assert answer in (["yes"], ["no"]), (run.stdout, run.stderr)
        return answer == ["yes"]

    # Every probe on the collector account (where both answers occur), and three probes (one per
    # scope: the stack's namespace, another, the cluster) on every other account: what the review's
    # request spells differs by probe, not by account (a kubectl process costs about 0.5 CPU-s).
    accounts = _accounts(docs)
    cases = [("collector", p) for p in PROBES] + [
        (a, p) for a in accounts if a != "collector" for p in (PROBES[0], PROBES[-3], PROBES[-1])]
    assert len(accounts) > 1 and {p[2] for _, p in cases} == {None, "default", ""}
    with ThreadPoolExecutor(4) as pool:
        by_kubectl = list(pool.map(lambda case: kubectl_says(*case), cases))
        by_review = list(pool.map(lambda case: _reviewed(apiserver, ns, case), cases))
    assert any(by_kubectl) and not all(by_kubectl)      # both answers occur: the comparison means something
    assert by_review == by_kubectl, [c for c, k, r in zip(cases, by_kubectl, by_review) if k != r]


@by_variant
def test_a_second_apply_changes_nothing(apiserver, applied):
    name, _ = applied
    # A second render (past stack_manifests' cache), as the next `pulumi up` makes.
    again = [plain(m.body) for group in manifests.stack_manifests.__wrapped__(validate(VARIANTS[name])).values()
             for m in group]
    run = apiserver.kubectl("diff", "--server-side", FIELD_MANAGER, "-f", "-", stdin=dump(again), check=False)
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")


# -- upgrades: immutable fields ------------------------------------------------------

def statefulsets(docs: list[dict]) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in docs if o["kind"] == "StatefulSet"}


def field(body: dict, path: str):
    for part in path.split("."):
        body = body.get(part) if isinstance(body, dict) else None
    return body


def to_replace(old: list[dict], new: list[dict]) -> list[str]:
    """StatefulSets that Pulumi replaces (workloads.replace_plan): an immutable field changed."""
    before = statefulsets(old)
    return sorted(name for name, body in statefulsets(new).items() if name in before and any(
        field(body, p) != field(before[name], p) for p in replace_plan(body)["replace_on_changes"]))


def bigger(claim: dict) -> dict:
    out = copy.deepcopy(claim)
    out["spec"]["resources"]["requests"]["storage"] = "999Gi"
    return out


def changed(body: dict, key: str) -> dict:
    """The StatefulSet with spec.<key> changed (set, for a key it does not have)."""
    out = copy.deepcopy(body)
    spec = out["spec"]
    if key == "selector":
        spec["selector"]["matchLabels"]["extra"] = "x"
        spec["template"]["metadata"]["labels"]["extra"] = "x"
    elif key == "template":
        spec["template"]["metadata"]["annotations"]["checksum/config"] = "0" * 64
    else:
        spec[key] = {"replicas": spec["replicas"] + 1, "serviceName": "other",
                     "podManagementPolicy": "OrderedReady" if spec["podManagementPolicy"] == "Parallel" else "Parallel",
                     "volumeClaimTemplates": [bigger(c) for c in spec.get("volumeClaimTemplates", [])],
                     "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Delete"},
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
                     "minReadySeconds": 5, "revisionHistoryLimit": 3,
                     "ordinals": {"start": 1}}[key]
    return out


@pytest.mark.parametrize("applied", ["two-tier"], indirect=True)
def test_the_replace_plan_names_every_field_the_server_refuses_to_change(apiserver, applied):
    """Each spec field of each StatefulSet (and a few it does not set) changed alone, on the
    real server: the refused ones are exactly STATEFULSET_IMMUTABLE, Pulumi's replace plan."""
    _, docs = applied
    extra = ("updateStrategy", "minReadySeconds", "revisionHistoryLimit", "ordinals")
    for name, body in statefulsets(docs).items():
        assert replace_plan(body) == {"replace_on_changes": list(manifests.STATEFULSET_IMMUTABLE),
                                      "delete_before_replace": True}
        keys = [k for k in body["spec"] if k != "volumeClaimTemplates" or body["spec"][k]] + list(extra)
        path = f"/apis/apps/v1/namespaces/{body['metadata']['namespace']}/statefulsets/{name}"
        refused = set()
        for key in keys:   # the server-side apply, as HTTP: a kubectl process each cost 0.5 CPU-s
            status, answer = apiserver.apply_dry_run(path, changed(body, key), MANAGER)
            if status != 200:
                assert status == 422 and ("immutable" in answer["message"] or "Forbidden" in answer["message"]), \
                    (name, key, answer)
                refused.add(f"spec.{key}")
        assert refused == {p for p in manifests.STATEFULSET_IMMUTABLE if p.removeprefix("spec.") in keys}, name


UPGRADES = {  # setting changes that change a StatefulSet's volumeClaimTemplates
    "prometheus.storage_gib": ({}, {"prometheus": {"storage_gib": 100}}, ["prometheus"]),
    "kubernetes.storage_class": ({}, {"kubernetes": {"storage_class": "fast-ssd"}},
                                 ["alertmanager", "grafana", "loki", "prometheus", "tempo"]),
    "storage.tempo": ({}, {"storage": {"tempo": {"type": "s3", "bucket": "traces-bucket", "region": "eu-west-1"}}},
                      ["tempo"]),
}


@pytest.mark.parametrize("setting", list(UPGRADES))
def test_a_setting_that_changes_an_immutable_field_replaces_the_statefulset(apiserver, setting):
    before, after, replaced = UPGRADES[setting]
    ns = "up-" + re.sub(r"[^a-z0-9]+", "-", setting)
    # The namespace and the StatefulSets: what the server refuses or replaces (kubectl parsed and the
    # server admitted the whole stack five times a setting).
    old, new = ([o for o in objects(_variant(setting, c, ns)) if o["kind"] in ("Namespace", "StatefulSet")]
                for c in (before, after))
    run = apply(apiserver, old)
    assert run.returncode == 0 and not run.stderr, run.stderr
    # The claims the StatefulSet controller would have made (no controller runs here).
    claims = [{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
               "metadata": {"name": f"data-{name}-0", "namespace": ns},
               "spec": body["spec"]["volumeClaimTemplates"][0]["spec"]}
              for name, body in statefulsets(old).items() if name in replaced]
    assert apply(apiserver, claims).returncode == 0

    assert to_replace(old, new) == replaced
    run = apply(apiserver, new)   # an update in place: the server refuses each of them
    refused = sorted(set(re.findall(r'StatefulSet(?:\.apps)? "([\w-]+)" is invalid: spec\S*: .*immutable',
                                    run.stderr)))
    assert run.returncode != 0 and refused == replaced, run.stderr
    # The plan: delete each, then create it again; its claims stay (retention Retain) for the new one.
    apiserver.kubectl("delete", "statefulset", "-n", ns, "--wait=true", *replaced)
    run = apply(apiserver, new)
    assert run.returncode == 0 and not run.stderr, run.stderr
    kept = apiserver.kubectl("get", "pvc", "-n", ns, "-o", "name").stdout.split()
    assert kept == [f"persistentvolumeclaim/data-{name}-0" for name in replaced]


def test_a_setting_without_immutable_fields_updates_in_place(apiserver):
    ns = "up-in-place"
    old = objects(_variant(ns, {}, ns))
    new = objects(_variant(ns, {"kubernetes": {"two_tier": {"sampler_replicas": 5}},
                                "retention": {"metrics": "7d"}}, ns))
    assert to_replace(old, new) == []
    assert apply(apiserver, old).returncode == 0
    run = apply(apiserver, new)
    assert run.returncode == 0 and not run.stderr, run.stderr


# -- CRDs the objects need -----------------------------------------------------------

@pytest.mark.parametrize("name", list(VARIANTS))
def test_required_crds_are_what_a_server_without_them_refuses(apiserver, name):
    docs = objects(VARIANTS[name])
    crds = manifests.required_crds(manifests.stack_manifests(validate(VARIANTS[name])))
    assert crds == sorted({manifests.CUSTOM_RESOURCES[(o["apiVersion"], o["kind"])] for o in docs
                           if (o["apiVersion"], o["kind"]) in manifests.CUSTOM_RESOURCES})
    assert ("certificates.cert-manager.io" in crds) == (validate(VARIANTS[name]).ingest.tls.mode == "cert-manager")
    assert ("prometheusrules.monitoring.coreos.com" in crds) == (
        validate(VARIANTS[name]).backends.metrics.rules == "prometheus-operator")
    for crd in crds:   # the real CRD of that name serves the kind at that version
        spec = json.loads(apiserver.kubectl("get", "crd", crd, "-o", "json").stdout)["spec"]
        served = {(f"{spec['group']}/{v['name']}", spec["names"]["kind"]) for v in spec["versions"] if v["served"]}
        assert {k for k, v in manifests.CUSTOM_RESOURCES.items() if v == crd} <= served
    gets, run = _NO_CRDS[name]
    assert sorted(gets) == crds
    for crd, missing in gets.items():   # before the install, the server had none of them
        assert missing.returncode != 0 and "NotFound" in missing.stderr, (crd, missing.stderr)
    refused = sorted(set(re.findall(r'no matches for kind "(\w+)" in version "([\w./-]+)"', run.stderr)))
    needed = sorted({(o["kind"], o["apiVersion"]) for o in docs
                     if (o["apiVersion"], o["kind"]) in manifests.CUSTOM_RESOURCES})
    assert refused == needed, run.stderr
    assert (run.returncode != 0) == bool(needed), run.stderr


@pytest.mark.parametrize("applied", ["kube-prometheus"], indirect=True)
def test_the_real_crds_validate_the_operator_objects(apiserver, applied):
    """The Prometheus Operator's CRDs check what the stack places: a rule's `for` that is no duration,
    and an AlertmanagerConfig matcher with an operator Alertmanager lacks, are refused."""
    _, docs = applied
    kinds = sorted({o["kind"] for o in docs if o["apiVersion"].startswith("monitoring.coreos.com/")})
    assert kinds == ["AlertmanagerConfig", "PrometheusRule", "ServiceMonitor"]
    rule = copy.deepcopy(next(o for o in docs if o["kind"] == "PrometheusRule" and "alert" in str(o["spec"])))
    alert = next(r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r)
    alert["for"] = "five minutes"
    run = apply(apiserver, [rule], "--dry-run=server")
    assert run.returncode != 0 and "for" in run.stderr, run.stderr
    amc = next(o for o in docs if o["kind"] == "AlertmanagerConfig")
    bad = copy.deepcopy(amc)
    bad["spec"]["route"]["matchers"] = [{"name": "team", "value": "x", "matchType": "=="}]
    run = apply(apiserver, [bad], "--dry-run=server")
    assert run.returncode != 0 and "matchType" in run.stderr, run.stderr
    # The CRD keeps child routes unchecked (preserve-unknown-fields; the operator reads them as routes):
    # each is checked here against the CRD's own schema of a route.
    crd = json.loads(apiserver.kubectl("get", "crd", "alertmanagerconfigs.monitoring.coreos.com", "-o", "json").stdout)
    route_schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["route"]
    strict = _closed(route_schema)
    for route in amc["spec"]["route"]["routes"]:
        jsonschema.validate(route, strict)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**amc["spec"]["route"]["routes"][0], "match_type": "="}, strict)


def _closed(schema: dict) -> dict:
    """An OpenAPI (structural) schema as a JSON schema that refuses unknown fields, as the API server's
    strict field validation does."""
    out = {k: v for k, v in schema.items() if not k.startswith("x-kubernetes")}
    if "properties" in out:
        out["properties"] = {k: _closed(v) for k, v in out["properties"].items()}
        out["additionalProperties"] = False
    if "items" in out:
        out["items"] = _closed(out["items"])
    return out
