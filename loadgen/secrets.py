"""Secrets and PII the `secret_leak_attempts` scenario leaks: one sample per gateway detector.

Values are drawn from the run's seed (so they differ between seeds, and a test can
search every backend for exactly what was sent) in the formats the detectors in
telemetry/detectors.py recognise. `sensitive` is the part that must never leave the
gateway (a detector may keep a key name or URL scheme around it).
"""
from __future__ import annotations

import base64
import random
import string
from dataclasses import dataclass

from telemetry.detectors import DETECTORS

ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Secret:
    detector: str
    text: str        # as an app would log or prompt it
    sensitive: str   # what must not reach a backend


def _chars(rng: random.Random, n: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _luhn_visa(rng: random.Random) -> str:
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    digits.append((10 - total % 10) % 10)
    text = "".join(map(str, digits))
    return " ".join(text[i:i + 4] for i in range(0, 16, 4))


def _b64url(rng: random.Random, payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=") + _chars(rng, 4)


def _iban(rng: random.Random) -> str:
    """A German IBAN with valid mod-97 check digits, in groups of four or not."""
    bban = _chars(rng, 18, string.digits)
    check = 98 - int(bban + "131400") % 97   # D=13, E=14, check digits 00 while computing
    iban = f"DE{check:02d}{bban}"
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.5 else iban


def samples(rng: random.Random) -> tuple[Secret, ...]:
    """One sample per built-in text detector (not the by-key ones), in detector order."""
    first = rng.choice(("jane", "omar", "li", "maria", "tom"))
    last = rng.choice(("doe", "haddad", "wei", "garcia", "brown"))
    pem = _chars(rng, 64, ALNUM + "+/")
    jwt = ("eyJ" + _b64url(rng, '{"alg":"HS256","typ":"JWT"}')[3:] + ".eyJ"
           + _b64url(rng, f'{{"sub":"{first}","role":"admin"}}')[3:] + "." + _chars(rng, 43, ALNUM + "_-"))
    url_pw = _chars(rng, 14)
    cred_pw = _chars(rng, 10) + "-" + _chars(rng, 5)
    aws_secret = _chars(rng, 39, ALNUM + "/+") + rng.choice(ALNUM)
    area, exch, line = rng.randrange(201, 990), rng.randrange(201, 990), rng.randrange(1000, 10000)
    ssn = f"{rng.choice([rng.randrange(100, 666), rng.randrange(667, 900)])}-{rng.randrange(10, 100)}-{rng.randrange(1000, 10000)}"
    ip = f"10.{rng.randrange(1, 255)}.{rng.randrange(1, 255)}.{rng.randrange(1, 255)}"
    hook = f"{rng.randrange(10**17, 10**19)}/{_chars(rng, 68, ALNUM + '_-')}"
    azure = _chars(rng, 86, ALNUM + "+/") + "=="
    session = "FwoGZXIvYXdzE" + _chars(rng, 120, ALNUM + "/+")
    pair_value = _chars(rng, 18)
    out = {
        "aws_session_token": (f"AWS_SESSION_TOKEN={session}", session),
        "gitlab_token": (None, "glpat-" + _chars(rng, 20, ALNUM + "_-")),
        "discord_webhook": (f"notify https://discord.com/api/webhooks/{hook} on failure", hook),
        "google_oauth_token": (None, "ya29." + _chars(rng, 60, ALNUM + "_-")),
        "databricks_token": (None, "dapi" + _chars(rng, 32, "0123456789abcdef")),
        "azure_storage_key": (f"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={azure};EndpointSuffix=core.windows.net", azure),
        "name_value_pair": (f'{{"name": "api_key", "value": "{pair_value}"}}', pair_value),
        "iban": (None, _iban(rng)),
        "private_key": (f"-----BEGIN RSA PRIVATE KEY-----\n{pem}\n-----END RSA PRIVATE KEY-----", pem),
        "jwt": (f"session cookie {jwt}", jwt),
        "url_credentials": (f"connect to postgres://svc_app:{url_pw}@db.internal:5432/orders", url_pw),
        "anthropic_key": (None, "sk-ant-api03-" + _chars(rng, 40, ALNUM + "_-") + _chars(rng, 1)),
        "openai_key": (None, "sk-proj-" + _chars(rng, 40) ),
        "stripe_key": (None, "sk_live_" + _chars(rng, 24)),
        "sk_key": (None, "sk-" + _chars(rng, 32, "0123456789abcdef")),
        "aws_access_key_id": (None, "AKIA" + _chars(rng, 16, string.ascii_uppercase + string.digits)),
        "aws_secret_key": (f"aws_secret_access_key = {aws_secret}", aws_secret),
        "github_token": (None, "ghp_" + _chars(rng, 36)),
        "slack_token": (None, f"xoxb-{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}-{_chars(rng, 16)}"),
        "google_api_key": (None, "AIza" + _chars(rng, 35, ALNUM + "_-")[:-1] + rng.choice(ALNUM)),
        "bearer_token": (None, _chars(rng, 28)),
        "credential_pair": (f"retry the job with password={cred_pw}", cred_pw),
        "email": (None, f"{first}.{last}{rng.randrange(10, 99)}@example.com"),
        "credit_card": (None, _luhn_visa(rng)),
        "us_ssn": (None, ssn),
        "phone": (f"call me back at +1 {area} {exch} {line} please", f"{area} {exch} {line}"),
        "ipv4": (None, ip),
        "gcp_service_account": (None, _chars(rng, 40, "0123456789abcdef")),
        "huggingface_token": (None, "hf_" + _chars(rng, 34, string.ascii_letters)),
        "replicate_token": (None, "r8_" + _chars(rng, 37)),
        "groq_key": (None, "gsk_" + _chars(rng, 52)),
        "together_key": (None, "tgp_v1_" + _chars(rng, 43)),
        "fireworks_key": (None, "fw_" + _chars(rng, 24)),
        "pinecone_key": (None, "pcsk_" + _chars(rng, 6) + "_" + _chars(rng, 63)),
        "langsmith_key": (None, "lsv2_pt_" + _chars(rng, 32, "0123456789abcdef") + "_" + _chars(rng, 10, "0123456789abcdef")),
        "npm_token": (None, "npm_" + _chars(rng, 36)),
        "pypi_token": (None, "pypi-AgEIcHlwaS5vcmc" + _chars(rng, 60, ALNUM + "_-")),
        "sendgrid_key": (None, "SG." + _chars(rng, 22) + "." + _chars(rng, 43)),
        "twilio_key": (None, "SK" + _chars(rng, 32, "0123456789abcdef")),
        "basic_auth": (None, base64.b64encode(f"{first}:{_chars(rng, 12)}".encode()).decode()),
        "url_encoded_pair": (None, _chars(rng, 12)),
    }
    context = {
        "anthropic_key": "my anthropic key is {}", "openai_key": "use OPENAI key {} for this",
        "stripe_key": "charge it with {}", "sk_key": "legacy key {} still works?",
        "aws_access_key_id": "aws id {} was rotated", "github_token": "ci token {} expired",
        "slack_token": "post with slack bot {}", "google_api_key": "maps key {} fails",
        "bearer_token": "header was Authorization: Bearer {}", "email": "reach me at {} today",
        "credit_card": "my card {} was charged twice", "us_ssn": "my ssn is {} for the form",
        "ipv4": "requests from {} are blocked",
        "gcp_service_account": '{{"type": "service_account", "private_key_id": "{}"}}',
        "huggingface_token": "HF_TOKEN {} for the hub", "replicate_token": "replicate with {}",
        "groq_key": "groq key {} hit the limit", "together_key": "together {} works",
        "fireworks_key": "fireworks {} expired", "pinecone_key": "pinecone {} index",
        "langsmith_key": "tracing to langsmith with {}", "npm_token": "publish with {}",
        "pypi_token": "upload with {} please", "sendgrid_key": "mail via {}",
        "twilio_key": "sms via twilio {}", "basic_auth": "sent header Authorization: Basic {}",
        "url_encoded_pair": "redirect=%2Flogin%3Fpassword%3D{}%26next%3D1",
        "gitlab_token": "git push with {}", "google_oauth_token": "gcloud token {} used",
        "databricks_token": "databricks {} for the job", "iban": "pay to {} by Friday",
    }
    result = []
    for d in DETECTORS:
        if d.by_key:
            continue
        text, sensitive = out[d.name]
        result.append(Secret(d.name, text if text is not None else context[d.name].format(sensitive), sensitive))
    return tuple(result)
