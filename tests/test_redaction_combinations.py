"""Two secrets of different detectors in one string, through the real gateway: at both ends of a
value with nothing else around them, adjacent (one separator apart), and in an attribute key,
for every ordered pair, so a later detector matching later in the string (or in a key) after an
earlier one has rewritten it must still remove all of its secret. The forms are written by hand
(tests/credentials.py's conventions); nothing of either secret may arrive, not even a fragment."""
from __future__ import annotations

import itertools

import pytest

from gateway_run import gateway, wait
from otlp_json import NOW, TRACE_ID, kv, post

# (detector, bare form: the shortest text it fires on, the secret inside it)
BARE: tuple[tuple[str, str, str], ...] = (
    ("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
     "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
    ("url_credentials", "postgres://svc:Pg7Wm3Kx9Tb@db:5432", "Pg7Wm3Kx9Tb"),
    ("anthropic_key", "sk-ant-api03-Qa1Ws2Ed3Rf4Tg5Yh6Uj7Ik8", "Qa1Ws2Ed3Rf4Tg5Yh6Uj7Ik8"),
    ("openai_key", "sk-proj-Op1Ws2Ed3Rf4Tg5Yh6Uj7Ik8", "Op1Ws2Ed3Rf4Tg5Yh6Uj7Ik8"),
    ("stripe_key", "sk_live_St1Ws2Ed3Rf4Tg5Yh6Uj7", "St1Ws2Ed3Rf4Tg5Yh6Uj7"),
    ("aws_access_key_id", "ASIAIOSFODNN7EXAMPLE", "IOSFODNN7EXAMPLE"),
    ("aws_secret_key", "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("github_token", "ghp_Gh1Ws2Ed3Rf4Tg5Yh6Uj7Ik8Ol9Pa0Sd1Fg2H", "Gh1Ws2Ed3Rf4Tg5Yh6Uj7Ik8Ol9Pa0Sd1Fg2H"),
    ("huggingface_token", "hf_Hf1Ws2Ed3Rf4Tg5Yh6Uj7Ik8Ol9Pa0Sd1F", "Hf1Ws2Ed3Rf4Tg5Yh6Uj7Ik8Ol9Pa0Sd1F"),
    ("slack_token", "xoxb-1234567890-Sl1Ws2Ed3Rf4Tg5Yh6", "Sl1Ws2Ed3Rf4Tg5Yh6"),
    ("gitlab_token", "glpat-Gl1Ws2Ed3Rf4Tg5Yh6Uj7", "Gl1Ws2Ed3Rf4Tg5Yh6Uj7"),
    ("google_api_key", "AIzaGa1Ws2Ed3Rf4Tg5Yh6Uj7Ik8Ol9Pa0Sd1Fg", "Ga1Ws2Ed3Rf4Tg5Yh6Uj7Ik8Ol9Pa0Sd1Fg"),
    ("bearer_token", "Bearer Be1Ws2Ed3Rf4Tg5Yh6", "Be1Ws2Ed3Rf4Tg5Yh6"),
    ("basic_auth", "Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l", "YWxhZGRpbjpvcGVuc2VzYW1l"),
    ("credential_pair", "password=Cp1Ws2Ed3Rf4", "Cp1Ws2Ed3Rf4"),
    ("url_encoded_pair", "api_key%3DUe1Ws2Ed3Rf4", "Ue1Ws2Ed3Rf4"),
    ("iban", "DE89370400440532013000", "370400440532013000"),
    ("email", "jane.doe@example.com", "jane.doe@example"),
    ("credit_card", "4111 1111 1111 1111", "1111 1111 1111"),
    ("us_ssn", "078-05-1120", "078-05-1120"),
    ("phone", "+447911123456", "447911123456"),
    ("ipv4", "203.0.113.7", "203.0.113.7"),
)
SEPARATORS = (" ", "\n", ", ")
PAIRS = [(a, b) for a, b in itertools.permutations(BARE, 2)]


def _fragments(secret: str) -> set[str]:
    """Every run of 8 characters of the secret (all of it when shorter)."""
    n = min(8, len(secret))
    return {secret[i:i + n] for i in range(len(secret) - n + 1)}


@pytest.fixture(scope="module")
def out():
    spans, records = [], []
    for i, ((_, a, _), (_, b, _)) in enumerate(PAIRS):
        attributes = [kv("pair", i)] + [kv(f"v{j}", a + sep + b) for j, sep in enumerate(SEPARATORS)]
        attributes.append(kv(f"k {a} {b}", "x"))
        spans.append({"traceId": TRACE_ID, "spanId": f"{i + 1:016x}", "name": "pair", "startTimeUnixNano": str(NOW),
                      "endTimeUnixNano": str(NOW + 1), "attributes": attributes})
        records.append({"timeUnixNano": str(NOW), "body": {"stringValue": f"{a} {b}"}, "attributes": [kv("pair", i)]})
    with gateway() as gw:
        for start in range(0, len(spans), 200):
            body = {"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": spans[start:start + 200]}]}]}
            assert post(gw, "traces", body) == 200
            body = {"resourceLogs": [{"resource": {}, "scopeLogs": [{"logRecords": records[start:start + 200]}]}]}
            assert post(gw, "logs", body) == 200
        assert wait(lambda: len(gw.traces.spans()) >= len(PAIRS) and len(gw.logs.logs()) >= len(PAIRS), timeout=120)
        yield ({s["attributes"]["pair"]: s["attributes"] for s in gw.traces.spans()},
               {r["attributes"]["pair"]: r["body"] for r in gw.logs.logs()})


def test_the_forms_are_what_the_detectors_fire_on_alone():
    for name, text, secret in BARE:
        assert secret in text and text.count(secret) == 1, name


def test_pairs_at_both_ends_adjacent_and_in_keys_leave_nothing(out):
    spans, bodies = out
    leaks = []
    for i, ((na, _, sa), (nb, _, sb)) in enumerate(PAIRS):
        texts = [v for key, v in spans[i].items() if key.startswith("v")]
        texts += [key for key in spans[i] if key.startswith("k ")] + [bodies[i]]
        for text in texts:
            for name, secret in ((na, sa), (nb, sb)):
                if any(f in text for f in _fragments(secret)):
                    leaks.append((na, nb, name, text))
    assert leaks == [], "\n".join(map(repr, leaks[:40])) + f"\n({len(leaks)} in all)"


def test_both_tags_are_left_where_the_two_secrets_were(out):
    spans, _ = out
    wrong = []
    for i, ((na, _, _), (nb, _, _)) in enumerate(PAIRS):
        for j in range(len(SEPARATORS)):
            got = spans[i][f"v{j}"]
            if f"[REDACTED:{na}]" not in got or f"[REDACTED:{nb}]" not in got:
                wrong.append((na, nb, SEPARATORS[j], got))
    assert wrong == [], "\n".join(map(repr, wrong[:40])) + f"\n({len(wrong)} in all)"
