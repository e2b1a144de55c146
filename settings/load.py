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
               "grafana_secret_key")


class SettingsError(ValueError):
    """Bad stack config. The message names the key path and what is allowed."""


def _yaml(name: str) -> dict:
    return yaml.safe_load((HERE / name).read_text())


STACK_SCHEMA = _yaml("stack.schema.yaml")
PRICES_SCHEMA = _yaml("prices.schema.yaml")
_REGISTRY = Registry().with_resource("prices.schema.yaml", Resource.from_contents(PRICES_SCHEMA))
_VALIDATOR = jsonschema.Draft202012Validator(STACK_SCHEMA, registry=_REGISTRY)


def default_prices() -> list[dict]:
    table = _yaml("prices.yaml")
    errors = list(jsonschema.Draft202012Validator(PRICES_SCHEMA).iter_errors(table))
    if errors:
        raise SettingsError(f"settings/prices.yaml: {_describe(errors[0], 'models')}")
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
    if error.validator == "required":
        return f"{key}: {error.message}"
    if error.validator == "pattern" and isinstance(error.instance, str) and error.instance == "latest":
        return f"{key}: 'latest' is not allowed; pin a version tag or digest"
    return f"{key}: {error.message}"


def _fill_defaults(schema: dict, value: Any) -> Any:
    """Apply `default`s from the schema, recursing through objects, arrays and $refs."""
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref.startswith("#/$defs/"):
            target = STACK_SCHEMA["$defs"][ref.split("/")[-1]]
        else:
            target = PRICES_SCHEMA["$defs"][ref.split("/")[-1]]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    if isinstance(value, dict):
        for name, sub in schema.get("properties", {}).items():
            if name not in value and "default" in sub:
                value[name] = copy.deepcopy(sub["default"])
            elif name not in value and "$ref" in sub:
                resolved = STACK_SCHEMA["$defs"].get(sub["$ref"].split("/")[-1], {})
                if "default" in resolved:
                    value[name] = copy.deepcopy(resolved["default"])
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


def _semantic_checks(raw: dict, data: dict) -> None:
    known = {d.name for d in DETECTORS}
    for i, name in enumerate(data["redaction"]["disabled_detectors"]):
        if name not in known:
            raise SettingsError(
                f"{_key(['redaction', 'disabled_detectors', i])}: unknown detector {name!r}; "
                f"allowed: {', '.join(sorted(known))}")
    seen: set[str] = set()
    for i, extra in enumerate(data["redaction"]["extra_patterns"]):
        key = _key(["redaction", "extra_patterns", i])
        if extra["name"] in known or extra["name"] in seen:
            raise SettingsError(f"{key}.name: {extra['name']!r} is already a detector name; choose another")
        seen.add(extra["name"])
        _check_regex(f"{key}.regex", extra["regex"])
    models: dict[str, int] = {}
    for i, price in enumerate(raw.get("pricing", {}).get("models", [])):
        key = _key(["pricing", "models", i])
        if price["model"] in models:
            raise SettingsError(f"{key}.model: duplicate model {price['model']!r} (also at index {models[price['model']]})")
        models[price["model"]] = i
    for i, price in enumerate(data["pricing"]["models"]):
        if "pattern" in price:
            _check_regex(_key(["pricing", "models", i, "pattern"]), price["pattern"])
    merged = data["pricing"]["models"]
    for i, price in enumerate(merged):
        for other in merged:
            if other is not price and "pattern" in price and re2.fullmatch(price["pattern"], other["model"]):
                raise SettingsError(
                    f"{_key(['pricing', 'models', i, 'pattern'])}: pattern {price['pattern']!r} of model "
                    f"{price['model']!r} also matches model {other['model']!r}; make it narrower")
    col = data["collector"]
    if data["target"] == "kubernetes" and not data["kubernetes"]["two_tier"]["enabled"] and col["replicas_max"] > 1:
        raise SettingsError(
            f"{_key(['kubernetes', 'two_tier', 'enabled'])}: false with {_key(['collector', 'replicas_max'])} = "
            f"{col['replicas_max']}: tail sampling behind several replicas splits traces (errors and slow traces "
            "would be kept partially); enable two_tier, or set collector.replicas_min and replicas_max to 1")
    if col["replicas_min"] > col["replicas_max"]:
        raise SettingsError(f"{_key(['collector', 'replicas_min'])}: {col['replicas_min']} is above "
                            f"collector.replicas_max ({col['replicas_max']})")
    for signal in ("tempo", "loki"):
        store = data["storage"][signal]
        if store["type"] == "local" and len(store) > 1:
            raise SettingsError(f"{_key(['storage', signal])}: bucket/endpoint/region need type s3, gcs or azure")


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
    errors = sorted(_VALIDATOR.iter_errors(raw), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        raise SettingsError(_describe(jsonschema.exceptions.best_match(errors)))
    data = _fill_defaults(STACK_SCHEMA, copy.deepcopy(raw))
    data["pricing"]["models"] = _merge_prices(data["pricing"]["models"])
    _semantic_checks(raw, data)
    _VALIDATOR.validate({k: v for k, v in data.items()})
    return _build(model.Settings, data)


def split_stack_config(config: Mapping[str, Any]) -> tuple[dict, dict]:
    """Pulumi stack `config:` -> (settings keys, secret keys). Other namespaces are ignored."""
    settings: dict[str, Any] = {}
    secrets: dict[str, Any] = {}
    for full_key, value in (config or {}).items():
        if not str(full_key).startswith(PREFIX):
            continue
        key = full_key[len(PREFIX):]
        if key in SECRET_KEYS:
            if not (isinstance(value, dict) and set(value) == {"secure"}):
                raise SettingsError(f"{full_key}: must be a secret; set it with `pulumi config set --secret {key} ...`")
            secrets[key] = value
        else:
            settings[key] = value
    return settings, secrets


def load_stack_file(path: str | Path) -> model.Settings:
    """Read a Pulumi.<stack>.yaml and return its validated Settings."""
    doc = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(doc, dict):
        raise SettingsError(f"{path}: not a Pulumi stack file (expected a mapping)")
    settings, _ = split_stack_config(doc.get("config") or {})
    return validate(settings)


def from_pulumi_config(pairs: Mapping[str, str]) -> model.Settings:
    """Pulumi runtime config (full key -> string, JSON for objects) -> Settings."""
    parsed: dict[str, Any] = {}
    for key, text in pairs.items():
        try:
            parsed[key] = json.loads(text)
        except (TypeError, ValueError):
            parsed[key] = text
    settings, _ = split_stack_config({k: v for k, v in parsed.items() if k[len(PREFIX):] not in SECRET_KEYS})
    return validate(settings)
