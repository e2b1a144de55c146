"""Hand-written tables for the issue-34 detectors and validity checks, one row per alternative of
each pattern: (text in, text out) through the real gateway, in a span attribute and a log body.
Expected values are written from the providers' documented formats and worked by hand (Luhn,
mod-97 sums), never drawn from loadgen/secrets.py or the detector table."""
from __future__ import annotations

import re

import pytest

from credentials import NEGATIVES, SAMPLES
from gateway_run import gateway, wait
from otlp_json import NOW, TRACE_ID, kv, post
from telemetry.detectors import DETECTORS


def T(name: str) -> str:
    return f"[REDACTED:{name}]"


DISCORD_TOKEN = "Xy9_Wv8-Ut7Sr6Qp5On4Ml3Kj2Ih1Gf0EdCbAzYxWvUtSrQpOnMlKjIhGfEdCbA12"   # 65 characters
AZURE_KEY = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6QUJDREVGR0g="

# (detector, text, expected): expected == text is a negative example.
TABLE: tuple[tuple[str, str, str], ...] = (
    # GitLab: each documented prefix, routable (dotted) and CI job (partition_) forms, legacy runner registration.
    ("gitlab_token", "glpat-xY7zQ2mN8bV4cR1tK9pL", T("gitlab_token")),
    ("gitlab_token", "glpat-AbCdEfGhIjKlMnOpQrStUvW.01.0w1x2y3z4 ok", T("gitlab_token") + " ok"),
    ("gitlab_token", "gloas-0123456789abcdef0123456789abcdef", T("gitlab_token")),
    ("gitlab_token", "deploy gldt-AbCdEfGhIjKlMnOpQrSt", "deploy " + T("gitlab_token")),
    ("gitlab_token", "glrt-t1_Ab3Cd5Ef7Gh9Ij1Kl3Mn", T("gitlab_token")),
    ("gitlab_token", "CI_JOB_TOKEN glcbt-64_AbCdEfGhIjKlMnOpQrSt", "CI_JOB_TOKEN " + T("gitlab_token")),
    ("gitlab_token", "glptt-0123456789abcdef01234567", T("gitlab_token")),
    ("gitlab_token", "/feed.atom?feed_token=glft-AbCdEfGhIjKlMnOpQrSt", "/feed.atom?feed_token=" + T("gitlab_token")),
    ("gitlab_token", "glimt-AbCdEfGhIjKlMnOpQrSt", T("gitlab_token")),
    ("gitlab_token", "glagent-AbCdEfGhIjKlMnOpQrStUvWxYz012345", T("gitlab_token")),
    ("gitlab_token", "glsoat-AbCdEfGhIjKlMnOpQrSt", T("gitlab_token")),
    ("gitlab_token", "glffct-AbCdEfGhIjKlMnOpQrSt", T("gitlab_token")),
    ("gitlab_token", "GR1348941AbCdEfGhIjKlMnOpQrSt", T("gitlab_token")),
    ("gitlab_token", "the glpat- prefix marks personal tokens", "the glpat- prefix marks personal tokens"),
    ("gitlab_token", "glpat-short", "glpat-short"),
    # Discord: each host and an API version; the endpoint stays.
    ("discord_webhook", f"https://discord.com/api/webhooks/112233445566778899/{DISCORD_TOKEN}",
     "https://discord.com/api/webhooks/" + T("discord_webhook")),
    ("discord_webhook", f"https://discordapp.com/api/webhooks/11223344556677889/{DISCORD_TOKEN}",
     "https://discordapp.com/api/webhooks/" + T("discord_webhook")),
    ("discord_webhook", f"https://canary.discord.com/api/v10/webhooks/11223344556677889900/{DISCORD_TOKEN}",
     "https://canary.discord.com/api/v10/webhooks/" + T("discord_webhook")),
    ("discord_webhook", "https://discord.com/channels/112233445566778899/998877665544332211",
     "https://discord.com/channels/112233445566778899/998877665544332211"),
    ("discord_webhook", "https://discord.com/api/webhooks/112233445566778899", "https://discord.com/api/webhooks/112233445566778899"),
    ("google_oauth_token", "ya29.a0AfH6SMBx7Qw2Er4Ty6Ui8Op0AsDfGhJkLzXcVbNm", T("google_oauth_token")),
    ("google_oauth_token", "ya29.short", "ya29.short"),
    ("databricks_token", "dapi0123456789abcdef0123456789abcdef", T("databricks_token")),
    ("databricks_token", "dapi0123456789abcdef0123456789abcdef-3", T("databricks_token")),
    ("databricks_token", "dapi0123 is not a token", "dapi0123 is not a token"),
    ("azure_storage_key", f"AccountName=acme;AccountKey={AZURE_KEY};EndpointSuffix=core.windows.net",
     f"AccountName=acme;AccountKey={T('azure_storage_key')};EndpointSuffix=core.windows.net"),
    ("azure_storage_key", "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=AbCdEf0123456789GhIjKl+/mn=",
     "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=" + T("azure_storage_key")),
    ("azure_storage_key", "https://acme.blob.core.windows.net/c/b.txt?sv=2022-11-02&sr=b&sig=AbCdEf0123456789%2BgHiJkL%3D",
     "https://acme.blob.core.windows.net/c/b.txt?sv=2022-11-02&sr=b&sig=" + T("azure_storage_key")),
    ("azure_storage_key", "AccountName=acme;AccountKey=short", "AccountName=acme;AccountKey=short"),
    ("aws_session_token", "AWS_SESSION_TOKEN=FwoGZXIvYXdzEBYaDH7kQ2mN8bV4", "AWS_SESSION_TOKEN=" + T("aws_session_token")),
    ("aws_session_token", "x-amz-security-token: FwoGZXIvYXdzEBYaDH7kQ2mN8bV4", "x-amz-security-token: " + T("aws_session_token")),
    ("aws_session_token", '{"SessionToken": "IQoJb3JpZ2luX2VjEJr//////////wEa"}', '{"SessionToken": "' + T("aws_session_token") + '"}'),
    ("aws_session_token", "the session token expired", "the session token expired"),
    ("aws_secret_key", '{"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLE12"}', '{"SecretAccessKey": "' + T("aws_secret_key") + '"}'),
    ("url_credentials", "redis://:Rd5-s3cret-Pw@cache.internal:6379/0", "redis://" + T("url_credentials") + "cache.internal:6379/0"),
    ("url_credentials", "rediss://default:Pw-2x@cache:6380", "rediss://" + T("url_credentials") + "cache:6380"),
    ("url_credentials", "redis://cache.internal:6379/0", "redis://cache.internal:6379/0"),
    # JSON inside a JSON string: quotes escaped once and twice.
    ("credential_pair", '{\\"password\\":\\"Esc4ped-Pa55\\"}', '{\\"password\\":\\"' + T("credential_pair") + '\\"}'),
    ("credential_pair", '{\\\\\\"api_key\\\\\\": \\\\\\"zq8XkP0vLm3\\\\\\"}',
     '{\\\\\\"api_key\\\\\\": \\\\\\"' + T("credential_pair") + '\\\\\\"}'),
    ("name_value_pair", '{"name": "api_key", "value": "nv-9Qx2Lm7Wp4Zr"}', '{"name": "api_key", "value": "' + T("name_value_pair") + '"}'),
    ("name_value_pair", '[{"name":"db_password","type":"string","value":"Tr1cky Pass"}]',
     '[{"name":"db_password","type":"string","value":"' + T("name_value_pair") + '"}]'),
    ("name_value_pair", '{\\"name\\": \\"client_secret\\", \\"value\\": \\"cs-77Ab\\"}',
     '{\\"name\\": \\"client_secret\\", \\"value\\": \\"' + T("name_value_pair") + '\\"}'),
    ("name_value_pair", '{"name": "city", "value": "Paris"}', '{"name": "city", "value": "Paris"}'),
    ("name_value_pair", '{"name": "max_tokens", "value": "512"}', '{"name": "max_tokens", "value": "512"}'),
    # IBAN: mod-97 worked out (GB82 WEST...: 3214282912345698765432161182 mod 97 = 1).
    ("iban", "GB82 WEST 1234 5698 7654 32", T("iban")),
    ("iban", "to DE89370400440532013000.", "to " + T("iban") + "."),
    ("iban", "FR14 2004 1010 0505 0001 3M02 606", T("iban")),
    ("iban", "GB82 WEST 1234 5698 7654 31", "GB82 WEST 1234 5698 7654 31"),
    ("iban", "DE89370400440532013001", "DE89370400440532013001"),
    # Phones in national groupings; the check wants 8 to 15 digits.
    ("phone", "+44 7700 900123", T("phone")),
    ("phone", "+49 30 1234567", T("phone")),
    ("phone", "+33 6 12 34 56 78", T("phone")),
    ("phone", "+1 415 555 2671", T("phone")),
    ("phone", "+447911123456", T("phone")),
    ("phone", "+1-415-555-2671", T("phone")),
    ("phone", "score +1 2 3", "score +1 2 3"),
    ("us_ssn", "123 45 6789", T("us_ssn")),
    ("us_ssn", "123-45-6789", T("us_ssn")),
    ("us_ssn", "000 12 3456", "000 12 3456"),
    ("us_ssn", "123 00 4567", "123 00 4567"),
    ("email", "u?e=alice%40example.com&t=1", "u?e=" + T("email") + "&t=1"),
    ("email", "jane.doe+llm@example.com", T("email")),
    ("email", "git@github.com:org/repo.git", "git@github.com:org/repo.git"),
    ("email", "git@gitlab.example.com:group/sub/app.git", "git@gitlab.example.com:group/sub/app.git"),
    ("email", "ssh://git@github.com/org/repo.git", "ssh://git@github.com/org/repo.git"),
    # Cards: Luhn (4111...1111: 30; 5555...4444: 60; Amex 378282246310005: 60).
    ("credit_card", "4111 1111 1111 1111", T("credit_card")),
    ("credit_card", "5555-5555-5555-4444", T("credit_card")),
    ("credit_card", "378282246310005", T("credit_card")),
    ("credit_card", "4111 1111 1111 1112", "4111 1111 1111 1112"),
    ("credit_card", "order 5555555555555555 shipped", "order 5555555555555555 shipped"),   # 48
    ("ipv4", "from 192.168.0.1:8080", "from " + T("ipv4") + ":8080"),
    ("ipv4", "10.1.2.3", T("ipv4")),
    ("ipv4", "version 1.2.3.4", "version 1.2.3.4"),
    ("ipv4", "v10.0.0.1", "v10.0.0.1"),
    ("ipv4", "Version: 4.3.2.1", "Version: 4.3.2.1"),
    ("ipv4", "1.2.3.4.5", "1.2.3.4.5"),
    ("ipv4", "1.2.3.4-rc1", "1.2.3.4-rc1"),
    ("ipv4", "10.0.0.256", "10.0.0.256"),
    ("bearer_token", "Authorization: Bearer abc123DEF456ghi789", "Authorization: Bearer " + T("bearer_token")),
    ("bearer_token", "the bearer of this letter", "the bearer of this letter"),
    ("bearer_token", "the bearer instrument is payable", "the bearer instrument is payable"),
)

# Every alternative of every text detector (tests/credentials.py), and near misses.
TABLE += tuple((name, text, text.replace(secret, T(name))) for name, text, secret in SAMPLES)
TABLE += tuple((name, text, text) for name, text in NEGATIVES)

# By-key: (attribute key, value in, value out).
KEYED: tuple[tuple[str, str, str], ...] = (
    ("http.request.header.api-key", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", T("secret_header")),
    ("http.request.header.x-amz-security-token", "FwoGZXIvYXdzEBYaDH7kQ2mN8bV4", T("secret_header")),
    ("http.request.header.authorization", "Token abcdefghijklmnop", T("secret_header")),
    ("http.request.header.cookie", "session=8f7e6d5c4b3a", T("secret_header")),
    ("http.response.header.set-cookie", "session=8f7e6d5c4b3a; HttpOnly", T("secret_header")),
    ("http.request.header.ocp-apim-subscription-key", "0f1e2d3c4b5a6978", T("secret_header")),
    ("http.request.header.x-api-key", "0f1e2d3c4b5a6978", T("secret_header")),
    ("http.request.header.private-token", "some-gitlab-token", T("secret_header")),
    ("http.request.header.content-type", "application/json", "application/json"),
    ("http.request.header.x-request-id", "req-0f1e2d3c", "req-0f1e2d3c"),
    ("api-key.rotation_days", "90", "90"),
    ("db_password", "hunter2-Tr0ub4dor", T("secret_attribute")),
    ("app.client_secret", "cs-77Ab", T("secret_attribute")),
    ("oauth.refresh_token", "1//0gAbCdEf", T("secret_attribute")),
    # secret_attribute: each name it lists, after each separator it accepts (start, ".", "_", "-").
    ("ldap.passwd", "v4l-9Qx2Lm", T("secret_attribute")),
    ("gpg-passphrase", "correct horse battery", T("secret_attribute")),
    ("secret", "v4l-9Qx2Lm", T("secret_attribute")),
    ("vendor.apikey", "v4l-9Qx2Lm", T("secret_attribute")),
    ("aws.access_key", "v4l-9Qx2Lm", T("secret_attribute")),
    ("aws.access-key", "v4l-9Qx2Lm", T("secret_attribute")),
    ("aws.accesskey", "v4l-9Qx2Lm", T("secret_attribute")),
    ("tls.private_key", "v4l-9Qx2Lm", T("secret_attribute")),
    ("tls.privatekey", "v4l-9Qx2Lm", T("secret_attribute")),
    ("svc.auth_token", "v4l-9Qx2Lm", T("secret_attribute")),
    ("svc.authtoken", "v4l-9Qx2Lm", T("secret_attribute")),
    ("oauth.access_token", "v4l-9Qx2Lm", T("secret_attribute")),
    ("oauth.access-token", "v4l-9Qx2Lm", T("secret_attribute")),
    ("oauth.accesstoken", "v4l-9Qx2Lm", T("secret_attribute")),
    ("oauth.refresh-token", "v4l-9Qx2Lm", T("secret_attribute")),
    ("oauth.refreshtoken", "v4l-9Qx2Lm", T("secret_attribute")),
    ("PASSWORD", "v4l-9Qx2Lm", T("secret_attribute")),
    # near misses: the name not at the end, or glued to another word
    ("passwordless", "true", "true"),
    ("user.password_policy", "strict", "strict"),
    ("secretary", "Jane", "Jane"),
    ("oauth.access_token_ttl", "3600", "3600"),
    ("next_page_token", "CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA3", "CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA3"),
    ("cache_key", "prompt:v12:gpt-4o", "prompt:v12:gpt-4o"),
    ("secret_count", "3", "3"),
)
# Tool arguments as OTLP maps: (name, value in, value out).
PAIRS: tuple[tuple[str, str, str], ...] = (
    ("api_key", "nv-9Qx2Lm7Wp4Zr", T("secret_header")),   # secret_header comes first and names api[_-]key
    ("password", "Tr1cky Pass", T("secret_attribute")),
    ("city", "Paris", "Paris"),
)


def _regex_matches(name: str, text: str) -> bool:
    (d,) = [d for d in DETECTORS if d.name == name]
    return re.search(d.regex.replace("(?i)", ""), text, re.I if d.regex.startswith("(?i)") else 0) is not None


def test_every_detector_has_hand_written_positive_rows():
    """The names come from the detector table; the inputs never do."""
    positive = {n for n, t, want in TABLE if want != t} | {want[10:-1] for _, v, want in KEYED + PAIRS if want != v}
    assert [d.name for d in DETECTORS if d.name not in positive] == []


def test_every_positive_row_matches_its_regex():
    """Fast guard without the gateway: each positive row is found by its detector's regex."""
    assert [(n, t) for n, t, want in TABLE if want != t and not _regex_matches(n, t)] == []


@pytest.fixture(scope="module")
def out():
    spans, records = [], []
    for i, (_name, text, _want) in enumerate(TABLE):
        spans.append({"traceId": TRACE_ID, "spanId": f"{i + 1:016x}", "name": "table", "startTimeUnixNano": str(NOW),
                      "endTimeUnixNano": str(NOW + 1), "attributes": [kv("row", i), kv("v", text)]})
        records.append({"timeUnixNano": str(NOW), "body": {"stringValue": text}, "attributes": [kv("row", i)]})
    keyed = {"traceId": TRACE_ID, "spanId": f"{len(TABLE) + 1:016x}", "name": "keyed", "startTimeUnixNano": str(NOW),
             "endTimeUnixNano": str(NOW + 1),
             "attributes": [kv(k, {"arrayValue": {"values": [{"stringValue": v}]}}) for k, v, _ in KEYED]
             + [kv(f"tool.arg{i}", {"kvlistValue": {"values": [kv("name", n), kv("value", v)]}}) for i, (n, v, _) in enumerate(PAIRS)]}
    with gateway() as gw:
        assert post(gw, "traces", {"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": spans + [keyed]}]}]}) == 200
        assert post(gw, "logs", {"resourceLogs": [{"resource": {}, "scopeLogs": [{"logRecords": records}]}]}) == 200
        assert wait(lambda: len(gw.traces.spans()) >= len(TABLE) + 1 and len(gw.logs.logs()) >= len(TABLE))
        yield ({s["attributes"]["row"]: s["attributes"]["v"] for s in gw.traces.spans() if "row" in s["attributes"]},
               {r["attributes"]["row"]: r["body"] for r in gw.logs.logs() if "row" in r["attributes"]},
               [s for s in gw.traces.spans() if s["name"] == "keyed"][0]["attributes"])


def test_table_in_span_attributes_and_log_bodies(out):
    spans, bodies, _ = out
    wrong = [(name, text, want, got) for i, (name, text, want) in enumerate(TABLE)
             for got in (spans[i], bodies[i]) if got != want]
    assert wrong == [], "\n".join(map(repr, wrong))


def test_header_attributes_by_key(out):
    *_, attributes = out
    wrong = [(k, attributes.get(k)) for k, _v, want in KEYED if attributes.get(k) != [want]]
    assert wrong == [], "\n".join(map(repr, wrong))


def test_name_value_maps(out):
    *_, attributes = out
    wrong = [(n, attributes.get(f"tool.arg{i}")) for i, (n, _v, want) in enumerate(PAIRS)
             if attributes.get(f"tool.arg{i}") != {"name": n, "value": want}]
    assert wrong == []
