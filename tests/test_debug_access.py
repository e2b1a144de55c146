"""The debug store's access restriction and audit: Loki tenancy, Grafana provisioning of both
organizations, the audit panel and alert (structure), and the organization bootstrap run for
real against a stand-in for Grafana's HTTP API (Grafana cannot run here)."""
from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import re2
import yaml

import alerts
import collector_config
from alerts import audit as audit_alert, grafana as alerts_grafana
from backends import debug_access, grafana, loki
from backends.common import ROOT, hours
from collector_config import debug
from settings import validate
from artifacts import render_all
from conftest import ROOT as ROOT_DIR

ON = {"target": "docker", "debug": {"enabled": True, "tenants": ["acme"], "loki_tenant": "samples",
                                    "viewers": ["alice", "bob.smith"]}, "retention": {"debug_logs": "2d"}}


def _yaml(text: str) -> dict:
    return yaml.safe_load(text)


def test_loki_is_multi_tenant_only_with_the_debug_store_and_the_debug_tenant_keeps_its_retention():
    off, on = render_all(validate({"target": "docker"})), render_all(validate(ON))
    assert _yaml(off["loki/loki.yaml"])["auth_enabled"] is False and "loki/runtime.yaml" not in off
    config = _yaml(on["loki/loki.yaml"])
    assert config["auth_enabled"] is True
    assert config["runtime_config"]["file"] == f"{ROOT}/loki/runtime.yaml"   # where the target mounts it
    assert _yaml(on["loki/runtime.yaml"]) == {"overrides": {"samples": {"retention_period": hours("2d")}}}
    # The gateway writes the two tenants Loki and Grafana know: ordinary logs as `fake`.
    gw = _yaml(collector_config.render_yaml(validate(ON)))["exporters"]
    assert gw["otlp_http/debug_logs"]["headers"] == {"X-Scope-OrgID": "samples"}
    assert gw["otlp_http/logs"]["headers"] == {"X-Scope-OrgID": loki.NORMAL_TENANT} == {
        "X-Scope-OrgID": debug.NORMAL_TENANT}


def test_main_organization_never_reaches_the_debug_tenant_and_the_debug_org_reaches_only_it():
    on = render_all(validate(ON))
    main = _yaml(on["grafana/provisioning/datasources/datasources.yaml"])["datasources"]
    assert all(ds.get("orgId", 1) == 1 for ds in main)
    logs = next(ds for ds in main if ds["uid"] == grafana.LOGS_UID)
    assert (logs["jsonData"]["httpHeaderName1"], logs["secureJsonData"]["httpHeaderValue1"]) == (
        "X-Scope-OrgID", loki.NORMAL_TENANT)
    assert "samples" not in json.dumps(main)
    ds = json.loads(on[debug_access.DATASOURCE_FILE])
    assert (ds["type"], ds["uid"], ds["jsonData"]["httpHeaderName1"], ds["secureJsonData"]["httpHeaderValue1"]) == (
        "loki", debug_access.DATASOURCE_UID, "X-Scope-OrgID", "samples")
    # Nothing provisions the debug data source at startup (its organization does not exist yet then).
    provisioned = [p for p in on if p.startswith("grafana/provisioning/datasources/")]
    assert provisioned == ["grafana/provisioning/datasources/datasources.yaml"]
    ini = on["grafana/grafana.ini"]
    assert "router_logging = true" in ini and "send_user_header = true" in ini
    # Grafana traces every request to the gateway's audit receiver.
    assert "[tracing.opentelemetry]\nsampler_type = const\nsampler_param = 1\n" in ini
    assert "[tracing.opentelemetry.otlp]\naddress = collector:4319\npropagation = w3c\n" in ini
    off = render_all(validate({"target": "docker"}))
    assert "router_logging" not in off["grafana/grafana.ini"] and debug_access.DATASOURCE_FILE not in off
    assert "tracing" not in off["grafana/grafana.ini"]


def _allowlist(expr: str) -> str:
    """The RE2 the PromQL string holds (a double-quoted PromQL string escapes its backslashes)."""
    return re.search(r'user!~"((?:[^"\\]|\\.)+)"', expr).group(1).replace("\\\\", "\\")


def _rule(files: dict[str, str], name: str) -> dict | None:
    doc = _yaml(files[alerts.RULES_FILE])
    return next((r for g in doc["groups"] for r in g["rules"] if r["alert"] == name), None)


def test_audit_alert_fires_on_logins_outside_the_allowlist_and_links_its_panel():
    """The typed path: a Prometheus rule of team security (routed like every alert), its panel on the
    audit dashboard (a provisioned folder of its own), all present only with the store on."""
    on = render_all(validate(ON))
    rule = _rule(on, audit_alert.NAME)
    assert rule["labels"] == {"severity": "warning", "team": "security"} and rule["for"] == "2m"
    expr = rule["expr"]
    assert expr.startswith("(sum by (user) (increase(llm_debug_store_accesses_total{")
    allowed = _allowlist(expr)
    assert re2.fullmatch(allowed, "alice") and re2.fullmatch(allowed, "bob.smith")
    assert not re2.fullmatch(allowed, "bobxsmith") and not re2.fullmatch(allowed, "mallory")
    assert rule["annotations"]["description"] == ("{{ $labels.user }} called the debug organization's data sources "
                                                  "in the last 10 minutes; allowed: alice, bob.smith.")
    # Its link opens the panel that reads the same expression, narrowed to the alert's login.
    dashboard = json.loads(on["grafana/dashboards/audit/audit.json"])
    url = rule["annotations"]["dashboard_url"]
    assert url.startswith(f"http://127.0.0.1:3000/d/{dashboard['uid']}?viewPanel=")
    assert url.endswith("{{ with $labels.user }}&var-login={{ . | urlquery }}{{ end }}")
    panel_id = int(re.search(r"viewPanel=(\d+)", url).group(1))
    panel = next(p for p in dashboard["panels"] if p["id"] == panel_id)
    assert panel["targets"][0]["expr"].replace('user=~"$login", ', "") == expr   # $login at All: the alert's
    provider = next(p for p in _yaml(on["grafana/provisioning/dashboards/dashboards.yaml"])["providers"]
                    if p["folder"] == "Audit")
    assert provider["orgId"] == 1 and provider["options"]["path"] == f"{grafana.DASHBOARDS_DIR}/audit"
    # The Grafana engine: the same rule, every literal $ written $$ (Grafana expands $VAR in provisioning files).
    doc = _yaml(render_all(validate({**ON, "alerts": {"engine": "grafana"}}))[alerts_grafana.PROVISIONING_FILE])
    (graf,) = [r for g in doc["groups"] for r in g["rules"] if r["title"] == audit_alert.NAME]
    assert graf["data"][0]["model"]["expr"] == expr.replace("$", "$$") and "$$labels.user" in \
        graf["annotations"]["description"]
    assert (graf["annotations"]["__dashboardUid__"], graf["annotations"]["__panelId__"]) == (dashboard["uid"],
                                                                                             str(panel_id))
    # The Grafana-managed rule it replaces is deleted where an older stack provisioned it (Grafana keeps a
    # provisioned rule after its file is gone): the old path now holds only its deletion.
    assert _yaml(on[debug_access.RETIRED_ALERT_FILE]) == {"apiVersion": 1, "deleteRules": [
        {"orgId": 1, "uid": "llm-debug-store-access"}]}
    # Off: no audit alert, dashboard or folder.
    off = render_all(validate({"target": "docker"}))
    assert _rule(off, audit_alert.NAME) is None and not any("audit" in path for path in off)
    assert debug_access.RETIRED_ALERT_FILE not in off
    assert "Audit" not in off["grafana/provisioning/dashboards/dashboards.yaml"]
    # Without viewers, every access is outside the allowlist.
    nobody = audit_alert.accesses(validate({**ON, "debug": {**ON["debug"], "viewers": []}}))
    assert "user!~" not in nobody and "llm_debug_store_accesses_total[10m]" in nobody


class FakeGrafana:
    """Grafana's org and data source API, as far as the bootstrap uses it."""

    def __init__(self, org_id: int = 2):
        self.org_id, self.orgs, self.datasources, self.calls = org_id, {}, {}, []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.calls.append((method, self.path, self.headers.get("Authorization"),
                                   self.headers.get("X-Grafana-Org-Id"), body))
                if self.path == "/api/health":
                    return self._reply(200, {"database": "ok"})
                if self.headers.get("Authorization") != "Basic " + base64.b64encode(b"admin:pw-1").decode():
                    return self._reply(401, {"message": "Unauthorized"})
                if method == "GET" and self.path == "/api/orgs/name/Debug%20samples":
                    org = fake.orgs.get("Debug samples")
                    return self._reply(200, {"id": org, "name": "Debug samples"}) if org else self._reply(404, {})
                if method == "POST" and self.path == "/api/orgs":
                    fake.orgs[json.loads(body)["name"]] = fake.org_id
                    return self._reply(200, {"orgId": fake.org_id, "message": "Organization created"})
                uid = "/api/datasources/uid/" + debug_access.DATASOURCE_UID
                if method == "GET" and self.path == uid:
                    return self._reply(200, {}) if debug_access.DATASOURCE_UID in fake.datasources else self._reply(404, {})
                if method in ("POST", "PUT") and self.path in ("/api/datasources", uid):
                    fake.datasources[json.loads(body)["uid"]] = (method, self.headers.get("X-Grafana-Org-Id"))
                    return self._reply(200, {"message": "ok"})
                return self._reply(404, {})

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def do_PUT(self):
                self._handle("PUT")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def _bootstrap(tmp_path, fake: FakeGrafana) -> subprocess.CompletedProcess:
    (tmp_path / "grafana/debug-org").mkdir(parents=True, exist_ok=True)
    (tmp_path / debug_access.DATASOURCE_FILE).write_text(render_all(validate(ON))[debug_access.DATASOURCE_FILE])
    (tmp_path / "pw").write_text("pw-1")
    script = debug_access.bootstrap("admin", api=fake.api, root=str(tmp_path), password_file=str(tmp_path / "pw"))
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=60)


def test_bootstrap_creates_the_org_once_and_writes_its_data_source(tmp_path):
    with FakeGrafana() as fake:
        first = _bootstrap(tmp_path, fake)
        assert first.returncode == 0, first.stderr
        assert fake.orgs == {"Debug samples": 2}
        assert fake.datasources == {debug_access.DATASOURCE_UID: ("POST", "2")}
        again = _bootstrap(tmp_path, fake)   # a restart: nothing new, the data source updated in place
        assert again.returncode == 0, again.stderr
        assert [c for c in fake.calls if c[:2] == ("POST", "/api/orgs")].__len__() == 1
        assert fake.datasources == {debug_access.DATASOURCE_UID: ("PUT", "2")}
        assert "pw-1" not in first.stdout + first.stderr + again.stdout + again.stderr


def test_bootstrap_refuses_an_organization_id_the_provisioning_does_not_name(tmp_path):
    with FakeGrafana(org_id=3) as fake:
        result = _bootstrap(tmp_path, fake)
    assert result.returncode == 1 and "has id 3, expected 2" in result.stderr
    assert fake.datasources == {}


def test_stackctl_render_writes_the_debug_and_forwarding_artifacts(tmp_path):
    stack = tmp_path / "Pulumi.debug.yaml"
    stack.write_text(yaml.safe_dump({"config": {f"llmobs:{k}": v for k, v in {
        **ON, "forwarding": [{"name": "langfuse", "endpoint": "https://cloud.langfuse.com/api/public/otel",
                              "auth": "basic"}]}.items()}}))
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "stackctl", "render", "--config", str(stack), "--out", str(out)],
                   check=True, capture_output=True, timeout=300, cwd=ROOT_DIR)
    expected = render_all(validate({**ON, "forwarding": [{"name": "langfuse", "auth": "basic",
                                                          "endpoint": "https://cloud.langfuse.com/api/public/otel"}]}))
    for path in (debug_access.DATASOURCE_FILE, "grafana/dashboards/audit/audit.json", "loki/runtime.yaml",
                 alerts.RULES_FILE, "collector/config.yaml"):
        assert (out / path).read_text() == expected[path], path
    assert "otlp_http/forward_langfuse" in expected["collector/config.yaml"]
