"""Stack config -> validated, defaulted, typed Settings. Nothing else reads raw config."""
from __future__ import annotations

import copy
import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any, Mapping

import jsonschema
import re2
import yaml
from referencing import Registry, Resource

from settings import model
from telemetry.detectors import DETECTORS

HERE = Path(__file__).parent
PREFIX = "llmobs:"
# Secrets live in Pulumi secret config only; the schema never sees them.
SECRET_KEYS = ("grafana_admin_password", "ingest_token", "alert_webhook_url", "remote_write_password",
               "grafana_secret_key", "forward_tokens", "alert_pagerduty_routing_key", "alert_email_password",
               "registry_password", "content_hash_key", "metrics_token", "traces_token", "logs_token",
               "grafana_token")
# Keys that once existed: a stack file that still sets one is told why it went, never ignored.
_GATEWAY = "collector_config/distribution is the only gateway now"
REMOVED_KEYS = {
    ("redaction", "engine"): f"removed: {_GATEWAY}, and its llmredact processor the only redaction engine",
    ("collector", "metrics_engine"): f"removed: {_GATEWAY}, and its llmmetrics connector the only metrics engine",
    ("collector", "normalize_engine"): f"removed: {_GATEWAY}, and its llmnormalize processor the only normalization "
                                       "engine",
    ("versions", "collector"): f"removed: {_GATEWAY}; set the image with collector.image (or collector.registry)",
}
BUILD_COMMAND = "docker build -t <registry>/otelcol-llmobs:<tag> collector_config/distribution"


class SettingsError(ValueError):
    """Bad stack config. The message names the key path and what is allowed."""


def _yaml(name: str) -> dict:
    # libyaml's parser (same result as safe_load): the schema and the price table are read at
    # every import, and the pure-Python parser took a quarter of a second.
    return yaml.load((HERE / name).read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


STACK_SCHEMA = _yaml("stack.schema.yaml")
PRICES_SCHEMA = _yaml("prices.schema.yaml")
_REGISTRY = Registry().with_resource("prices.schema.yaml", Resource.from_contents(PRICES_SCHEMA))
_VALIDATOR = jsonschema.Draft202012Validator(STACK_SCHEMA, registry=_REGISTRY)


def default_prices() -> list[dict]:
    table = _yaml("prices.yaml")
    errors = list(jsonschema.Draft202012Validator(PRICES_SCHEMA).iter_errors(table))
    if errors:   # named by its place in the file (models[3].input), not by a stack key
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in errors[0].absolute_path).lstrip(".")
        raise SettingsError(f"settings/prices.yaml: {_describe(errors[0], where or 'models')}")
    return table["models"]


def _key(path: typing.Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return PREFIX + out if out else PREFIX.rstrip(":")


def _describe(error: jsonschema.ValidationError, key: str | None = None) -> str:
    key = key or _key(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return f"{_key([*error.absolute_path, extra[0]])}: unknown key; allowed keys: {', '.join(allowed)}"
    if error.validator == "enum":
        return f"{key}: {error.instance!r} is not allowed; use one of: {', '.join(map(str, error.validator_value))}"
    if error.validator == "required" and "then" in error.schema_path and "mode" in (error.instance or {}):
        missing = [name for name in error.validator_value if name not in error.instance]
        return f"{key}.{missing[0]}: required when {key.removeprefix(PREFIX)}.mode is {error.instance['mode']}"
    if error.validator == "required":
        return f"{key}: {error.message}"
    if error.validator == "pattern" and isinstance(error.instance, str) and error.instance == "latest":
        return f"{key}: 'latest' is not allowed; pin a version tag or digest"
    return f"{key}: {error.message}"


def resolve(schema: dict) -> dict:
    """A schema node with its `$ref` (into the stack or the price schema's `$defs`) merged in."""
    ref = schema.get("$ref")
    if not ref:
        return schema
    defs = STACK_SCHEMA["$defs"] if ref.startswith("#/$defs/") else PRICES_SCHEMA["$defs"]
    return {**defs[ref.split("/")[-1]], **{k: v for k, v in schema.items() if k != "$ref"}}


def _fill_defaults(schema: dict, value: Any) -> Any:
    """Apply `default`s from the schema, recursing through objects, arrays and $refs."""
    schema = resolve(schema)
    if isinstance(value, dict):
        for name, sub in schema.get("properties", {}).items():
            sub = resolve(sub)
            if name not in value and "default" in sub:
                value[name] = copy.deepcopy(sub["default"])
            if name in value:
                value[name] = _fill_defaults(sub, value[name])
    elif isinstance(value, list) and "items" in schema:
        return [_fill_defaults(schema["items"], item) for item in value]
    return value


def _check_regex(key: str, pattern: str) -> None:
    # The collector is Go: accept exactly what RE2 accepts (no lookaround, no backrefs).
    try:
        re2.compile(pattern)
    except re2.error as exc:
        msg = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise SettingsError(f"{key}: invalid RE2 regular expression {pattern!r}: {msg}") from None
    if re2.fullmatch(pattern, "") is not None:
        raise SettingsError(f"{key}: regular expression {pattern!r} matches the empty string")


def _check_redaction(redaction: dict) -> None:
    known = {d.name for d in DETECTORS}
    for i, name in enumerate(redaction["disabled_detectors"]):
        if name not in known:
            raise SettingsError(
                f"{_key(['redaction', 'disabled_detectors', i])}: unknown detector {name!r}; "
                f"allowed: {', '.join(sorted(known))}")
    seen: set[str] = set()
    for i, extra in enumerate(redaction["extra_patterns"]):
        key = _key(["redaction", "extra_patterns", i])
        if extra["name"] in known or extra["name"] in seen:
            raise SettingsError(f"{key}.name: {extra['name']!r} is already a detector name; choose another")
        seen.add(extra["name"])
        _check_regex(f"{key}.regex", extra["regex"])


def _price_keys(stack_models: list[dict]) -> dict[str, str]:
    """model -> where its entry was written: the stack's own index, else the default table's."""
    out = {p["model"]: f"settings/prices.yaml: models[{i}]" for i, p in enumerate(default_prices())}
    out.update({p["model"]: _key(["pricing", "models", i]) for i, p in enumerate(stack_models)})
    return out


def _check_prices(stack_models: list[dict], merged: list[dict]) -> None:
    models: dict[str, int] = {}
    for i, price in enumerate(stack_models):
        if price["model"] in models:
            raise SettingsError(f"{_key(['pricing', 'models', i])}.model: duplicate model {price['model']!r} "
                                f"(also at index {models[price['model']]})")
        models[price["model"]] = i
    where = _price_keys(stack_models)
    for price in merged:
        if "pattern" in price:
            _check_regex(f"{where[price['model']]}.pattern", price["pattern"])
    mine = {p["model"] for p in stack_models}
    for price in merged:
        for other in merged:
            if other is not price and "pattern" in price and re2.fullmatch(price["pattern"], other["model"]):
                if price["model"] not in mine and other["model"] in mine:   # the stack's entry is the one to change
                    raise SettingsError(
                        f"{where[other['model']]}.model: {other['model']!r} is also matched by the pattern "
                        f"{price['pattern']!r} of the default model {price['model']!r} ({where[price['model']]}); "
                        f"override {price['model']!r} with a narrower pattern, or price it as {price['model']!r}")
                raise SettingsError(
                    f"{where[price['model']]}.pattern: pattern {price['pattern']!r} of model "
                    f"{price['model']!r} also matches model {other['model']!r}; make it narrower")


def _check_collector(data: dict) -> None:
    col = data["collector"]
    if data["target"] == "kubernetes" and not data["kubernetes"]["two_tier"]["enabled"] and col["replicas_max"] > 1:
        raise SettingsError(
            f"{_key(['kubernetes', 'two_tier', 'enabled'])}: false with {_key(['collector', 'replicas_max'])} = "
            f"{col['replicas_max']}: tail sampling behind several replicas splits traces (errors and slow traces "
            "would be kept partially); enable two_tier, or set collector.replicas_min and replicas_max to 1")
    _check_image(data)
    if col["replicas_min"] > col["replicas_max"]:
        raise SettingsError(f"{_key(['collector', 'replicas_min'])}: {col['replicas_min']} is above "
                            f"collector.replicas_max ({col['replicas_max']})")


def _check_image(data: dict) -> None:
    """The gateway runs the project's distribution: prebuilt (collector.image) or, on Kubernetes,
    built and pushed by `pulumi up` (collector.registry); on Docker `pulumi up` builds it locally."""
    col, image, registry = data["collector"], _key(["collector", "image"]), _key(["collector", "registry"])
    if col.get("image") and col.get("registry"):
        raise SettingsError(f"{registry}: set either collector.image (a prebuilt image) or collector.registry "
                            "(build and push), not both")
    if data["target"] == "docker" and col.get("registry"):
        raise SettingsError(f"{registry}: for the Kubernetes target; the docker target builds the image locally "
                            "(or runs collector.image)")
    if data["target"] != "kubernetes" or col.get("registry"):
        return
    if not col.get("image"):
        raise SettingsError(f"{image} or {registry}: the Kubernetes target needs the gateway image built from "
                            "collector_config/distribution: set collector.image to the published repository and "
                            "digest, or collector.registry for `pulumi up` to build and push it; build it yourself "
                            f"with `{BUILD_COMMAND}`")
    if not col["image"].get("digest"):
        raise SettingsError(f"{image}.digest: required on Kubernetes (a tag can move): the digest the push printed, "
                            "or the collector-image workflow's")


def _removed(raw: dict) -> None:
    for path, why in REMOVED_KEYS.items():
        node: Any = raw
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                break
        else:
            raise SettingsError(f"{_key(path)}: {why}; delete the key")


def _check_storage(storage: dict) -> None:
    for signal in ("tempo", "loki"):
        store = storage[signal]
        if store["type"] == "local" and len(store) > 1:
            raise SettingsError(f"{_key(['storage', signal])}: bucket/endpoint/region need type s3, gcs or azure")
        if store["type"] == "azure" and "." not in store.get("endpoint", ""):
            raise SettingsError(f"{_key(['storage', signal, 'endpoint'])}: required for type azure: the storage "
                                "account's blob endpoint, e.g. myaccount.blob.core.windows.net")


def _semantic_checks(raw: dict, data: dict) -> None:
    """What the schema cannot say: names against the detector list, RE2 regexes, price patterns, cross-key rules."""
    _check_redaction(data["redaction"])
    _check_prices(raw.get("pricing", {}).get("models", []), data["pricing"]["models"])
    _check_collector(data)
    _check_storage(data["storage"])
    _check_labels(data["labels"])
    _check_debug_and_forwarding(data)
    _check_receivers(data["alerts"]["receivers"])
    _check_alert_routing(raw, data)
    _check_backends(raw, data)


def _as_hours(duration: str) -> float:
    count, unit = int(duration[:-1]), duration[-1]
    return count * {"m": 1 / 60, "h": 1, "d": 24, "w": 168}[unit]


def _unique(items: list[dict], path: list, field: str, what: str) -> None:
    """Each item's `field` differs from the earlier ones'; the error names the later item."""
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item[field] in seen:
            raise SettingsError(f"{_key([*path, i, field])}: duplicate {what} {item[field]!r}")
        seen.add(item[field])


def _check_debug_and_forwarding(data: dict) -> None:
    debug = data["debug"]
    if debug["enabled"] and not debug["tenants"]:
        raise SettingsError(f"{_key(['debug', 'tenants'])}: debug.enabled needs the tenants that may be sampled "
                            "(or `*` for any)")
    if debug["enabled"] and _as_hours(data["retention"]["debug_logs"]) < 24:
        raise SettingsError(f"{_key(['retention', 'debug_logs'])}: {data['retention']['debug_logs']!r} is below "
                            "24h, the shortest per-tenant retention Loki applies; use 1d or more")
    _unique(data["forwarding"], ["forwarding"], "name", "forwarder name")
    for i, fwd in enumerate(data["forwarding"]):
        http = fwd["endpoint"].startswith(("http://", "https://"))
        if http != (fwd["protocol"] == "http"):
            raise SettingsError(f"{_key(['forwarding', i, 'endpoint'])}: protocol {fwd['protocol']} needs "
                                + ("an http(s):// URL" if fwd["protocol"] == "http" else "host:port"))
        if fwd["auth_header"].lower() != "authorization" and fwd["auth"] in ("bearer", "basic"):
            raise SettingsError(f"{_key(['forwarding', i, 'auth_header'])}: auth {fwd['auth']} is sent in "
                                "Authorization; use auth raw for another header")


def _check_receivers(receivers: dict) -> None:
    key = ["alerts", "receivers"]
    kinds = {receivers["kind"], receivers["non_paging"], receivers["dead_mans_switch"]} | {receivers[s] for s in ("critical", "warning", "info")}
    kinds |= {t[s] for t in receivers["teams"] for s in ("critical", "warning", "info") if s in t}
    if {"webhook", "slack"} <= kinds:
        raise SettingsError(f"{_key(key)}: webhook and slack both read the secret llmobs:alert_webhook_url; "
                            "route to one of them")
    _unique(receivers["teams"], [*key, "teams"], "team", "team")
    if "email" in kinds:
        for field in ("to", "from_address", "smarthost"):
            if not receivers["email"][field]:
                raise SettingsError(f"{_key([*key, 'email', field])}: required when a route uses the email receiver")


def _check_alert_routing(raw: dict, data: dict) -> None:
    """Receiver overrides name a team that owns alerts; paging environments set in the stack survive
    the label bound (the default, production, pages nothing on a stack without it, e.g. dev)."""
    alerts_ = data["alerts"]
    owners = alerts_["teams"]
    for i, override in enumerate(alerts_["receivers"]["teams"]):
        if override["team"] not in owners.values():
            raise SettingsError(
                f"{_key(['alerts', 'receivers', 'teams', i, 'team'])}: unknown team {override['team']!r}; no alert "
                f"carries it. Teams owning alerts (alerts.teams): {', '.join(sorted(set(owners.values())))}")
    bound = data["labels"]["environment"]
    for i, env in enumerate(raw.get("alerts", {}).get("paging_environments", [])):
        kept = env in bound["allowed"] or any(re2.fullmatch(p, env) for p in bound.get("patterns", []))
        if not kept:
            raise SettingsError(
                f"{_key(['alerts', 'paging_environments', i])}: {env!r} is not kept by labels.environment (allowed: "
                f"{', '.join(bound['allowed'])}): its alerts would carry `other` and never page; add it there")


def _check_backends(raw: dict, data: dict) -> None:
    """External backends: what each kind needs of the others, the target, and the stack's own keys.
    The schema says what one external backend needs on its own (endpoint, kind)."""
    b = data["backends"]
    m, a, d, tr, lg = (b[k] for k in ("metrics", "alerting", "dashboards", "traces", "logs"))
    ext = {k: b[k]["mode"] == "external" for k in b}
    kube = data["target"] == "kubernetes"

    def key(*path: str) -> str:
        return _key(["backends", *path])

    def fail(path: list[str], why: str) -> None:
        raise SettingsError(f"{key(*path)}: {why}")

    # The gateway's endpoints of an external backend are its settings, not llmobs:endpoints.
    for signal, field in (("metrics", "remote_write_url"), ("traces", "endpoint"), ("logs", "endpoint")):
        if ext[signal] and signal in raw.get("endpoints", {}):
            raise SettingsError(f"{_key(['endpoints', signal])}: backends.{signal} is external; set "
                                f"backends.{signal}.{field} instead")
    if not ext["metrics"]:
        for field in ("rules", "monitor"):
            if m[field] != "none":
                fail(["metrics", field], f"{m[field]!r} needs backends.metrics.mode external")
    else:
        if not ext["alerting"]:
            fail(["alerting", "mode"], "external is required with external metrics: the Prometheus you run "
                 "evaluates the alert rules and sends to its own Alertmanager (kind alertmanager-config or team), or "
                 "Grafana does (kind grafana)")
        for field, value in (("rules", "prometheus-operator"), ("monitor", "servicemonitor"), ("monitor", "podmonitor")):
            if m[field] == value and not kube:
                fail(["metrics", field], f"{value} is for the Kubernetes target (Prometheus Operator objects)")
        if (m["rules"] == "prometheus-operator" or m["monitor"] != "none") and not m["selector_labels"]:
            fail(["metrics", "selector_labels"], "required with rules prometheus-operator or a monitor: the labels "
                 "the operator's Prometheus selects PrometheusRule, ServiceMonitor and PodMonitor objects by, "
                 "e.g. {release: kube-prometheus-stack}")
    if ext["alerting"]:
        if not ext["metrics"] and a["kind"] != "grafana":
            fail(["alerting", "kind"], f"{a['kind']} needs backends.metrics.mode external: the bundled Prometheus "
                 "evaluates the rules and sends to the bundled Alertmanager")
        # alertmanager-config is Kubernetes only through its rules: prometheus-operator is refused elsewhere above.
        if a["kind"] == "alertmanager-config":
            if m["rules"] != "prometheus-operator":
                fail(["alerting", "kind"], "alertmanager-config needs backends.metrics.rules prometheus-operator (the "
                     "operator's Prometheus evaluates the alert rules and sends to the Alertmanager it configures)")
        if a["kind"] == "grafana" and not (ext["dashboards"] and d["kind"] == "grafana-api"):
            fail(["alerting", "kind"], "grafana needs backends.dashboards kind grafana-api: the alert rules, contact "
                 "points and notification policies go through the Grafana API")
        engine = "grafana" if a["kind"] == "grafana" else "prometheus"
        if data["alerts"]["engine"] != engine:
            raise SettingsError(f"{_key(['alerts', 'engine'])}: {data['alerts']['engine']!r} with backends.alerting "
                                f"kind {a['kind']}; use {engine}")
    elif ext["dashboards"] and data["alerts"]["engine"] == "grafana":
        raise SettingsError(f"{_key(['alerts', 'engine'])}: grafana with bundled alerting needs the bundled Grafana; "
                            "with an external Grafana use backends.alerting kind grafana")
    if ext["dashboards"]:
        if d["kind"] == "sidecar" and not kube:
            fail(["dashboards", "kind"], "sidecar is for the Kubernetes target (ConfigMaps the Grafana sidecar reads)")
        if d["kind"] == "grafana-api" and not d.get("url"):
            fail(["dashboards", "url"], "required with kind grafana-api: the Grafana base URL")
    if data["debug"]["enabled"] and (ext["logs"] or ext["dashboards"]):
        raise SettingsError(f"{_key(['debug', 'enabled'])}: the debug sample store is a tenant of the bundled Loki, "
                            "read through the bundled Grafana; it needs backends.logs and backends.dashboards bundled")
    for signal in ("metrics", "traces", "logs"):
        if not ext[signal]:
            continue
        own = b[signal]
        if own["auth_header"].lower() != "authorization" and own["auth"] in ("bearer", "basic"):
            fail([signal, "auth_header"], f"auth {own['auth']} is sent in Authorization; use auth raw for another header")
        # Grafana reads an external backend through a data source: created from query_url, unless its uid is given.
        needs_query = (not ext["dashboards"]) or (d["kind"] == "grafana-api" and not d["datasources"].get(signal))
        if needs_query and not own.get("query_url"):
            where = ("the bundled Grafana's data source" if not ext["dashboards"]
                     else "the data source the grafana-api kind creates (or give backends.dashboards.datasources."
                          f"{signal}, the uid of yours)")
            fail([signal, "query_url"], f"required: {where} reads it")
    if ext["traces"]:
        if tr["protocol"] == "grpc" and tr["insecure"] and tr["auth"] != "none":
            fail(["traces", "insecure"], "true with auth: gRPC sends no credentials over plaintext; use TLS "
                 "(insecure false) or protocol http")
        http = tr["endpoint"].startswith(("http://", "https://"))
        if http != (tr["protocol"] == "http"):
            fail(["traces", "endpoint"], f"protocol {tr['protocol']} needs " + (
                "an http(s):// URL" if tr["protocol"] == "http" else "host:port"))
    if ext["dashboards"] and d["kind"] == "grafana-api":
        for signal in ("metrics", "traces", "logs"):
            if not ext[signal] and not d["datasources"].get(signal):
                fail(["dashboards", "datasources", signal], f"required: backends.{signal} is bundled, in the cluster, "
                     "where the external Grafana cannot reach it; give the uid of a data source that can")
    del lg


def _check_labels(labels: dict) -> None:
    for name, bound in labels.items():
        for i, pattern in enumerate(bound["patterns"]):
            _check_regex(_key(["labels", name, "patterns", i]), pattern)


def _merge_prices(stack_models: list[dict]) -> list[dict]:
    by_model = {p["model"]: p for p in default_prices()}
    for price in stack_models:
        by_model[price["model"]] = price
    return [{**p, "cached_input": p.get("cached_input", p["input"])} for p in by_model.values()]


def _build(cls: type, data: Any) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for field in dataclasses.fields(cls):
        if field.name in data:
            kwargs[field.name] = _convert(hints[field.name], data[field.name])
    return cls(**kwargs)


def _convert(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)][0]
        return None if value is None else _convert(inner, value)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value)
    if origin is tuple:
        args = typing.get_args(hint)
        if hint == tuple[tuple[str, str], ...]:
            return tuple(sorted(value.items()))
        return tuple(_convert(args[0], v) for v in value)
    if hint is float and isinstance(value, int):
        return float(value)
    return value


def validate(config: Mapping[str, Any]) -> model.Settings:
    """Validate `llmobs:*` keys (prefix already removed) and build Settings, or raise SettingsError."""
    if not isinstance(config, Mapping):
        raise SettingsError(f"llmobs: the stack config must be a mapping of llmobs:* keys, got {type(config).__name__}")
    raw = copy.deepcopy(dict(config))
    _removed(raw)
    errors = sorted(_VALIDATOR.iter_errors(raw), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        raise SettingsError(_describe(jsonschema.exceptions.best_match(errors)))
    data = _fill_defaults(STACK_SCHEMA, copy.deepcopy(raw))
    data["pricing"]["models"] = _merge_prices(data["pricing"]["models"])
    _semantic_checks(raw, data)
    _VALIDATOR.validate({k: v for k, v in data.items()})
    return _build(model.Settings, data)


def _stack_file_secret(key: str, value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def split_stack_config(config: Mapping[str, Any], is_secret=_stack_file_secret) -> tuple[dict, dict]:
    """Pulumi stack `config:` -> (settings keys, secret keys). Other namespaces are ignored.
    A key of SECRET_KEYS that `is_secret(full key, value)` says is plain text is refused."""
    settings: dict[str, Any] = {}
    secrets: dict[str, Any] = {}
    for full_key, value in (config or {}).items():
        if not str(full_key).startswith(PREFIX):
            continue
        key = full_key[len(PREFIX):]
        if key in SECRET_KEYS:
            if not is_secret(full_key, value):
                raise SettingsError(f"{full_key}: must be a secret; set it with `pulumi config set --secret {key} ...`")
            secrets[key] = value
        else:
            settings[key] = value
    return settings, secrets


def runtime_settings(values: Mapping[str, Any], secret_keys: typing.Collection[str]) -> dict:
    """The Pulumi program's config (full key -> text, JSON for objects) -> settings keys, prefix removed.
    `secret_keys` are the full keys Pulumi holds as secrets; a secret key set in plain text is refused."""
    parsed: dict[str, Any] = {}
    for key, text in values.items():
        try:
            parsed[key] = json.loads(text) if isinstance(text, str) else text
        except ValueError:
            parsed[key] = text
    settings, _ = split_stack_config(parsed, lambda key, _value: key in secret_keys)
    return settings


def load_stack_file(path: str | Path) -> model.Settings:
    """Read a Pulumi.<stack>.yaml and return its validated Settings."""
    doc = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(doc, dict):
        raise SettingsError(f"{path}: not a Pulumi stack file (expected a mapping)")
    settings, _ = split_stack_config(doc.get("config") or {})
    return validate(settings)
