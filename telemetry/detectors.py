"""Built-in secret and PII detectors, applied in this order by the gateway.

Each regex is RE2 (the collector is Go). A match is replaced by `replacement`,
which keeps a type tag (`[REDACTED:<name>]`) so redaction hits can be counted.
Order matters: specific formats run before the generic ones that would
otherwise eat part of them (url credentials before email, sk-ant- before sk-).

`gates` are cheap necessary conditions (RE2): wherever `regex` matches a value, one
gate matches the record's text. The gateway scans a record once per distinct gate
and runs only the detectors whose gate matched. A gate that starts with a literal
lets Go's regexp jump from one occurrence of it to the next instead of trying
every position, so most gates cost next to nothing on text without them.
"""
from __future__ import annotations

from dataclasses import dataclass

TAG = "[REDACTED:{}]"


@dataclass(frozen=True)
class Detector:
    name: str
    regex: str
    keep: str = ""  # replacement prefix, e.g. "${1}" to keep a matched key name
    note: str = ""
    gates: tuple[str, ...] = ()   # empty: the regex is its own gate

    @property
    def checks(self) -> tuple[str, ...]:
        return self.gates or (self.regex,)

    @property
    def replacement(self) -> str:
        return self.keep + TAG.format(self.name)


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# Gates shared by the key-name detectors. Each starts with a literal: the gateway checks
# `(?i)` gates on a lowercased copy of the text, where Go's regexp skips to the literal.
# One case-insensitive alternation cost ~40x more than all of them (docs/benchmarks.md).
_NAMED = r"[\"']?\s*[:=]"
_KEY_NAMED = (r"(?i)bearer\s", r"(?i)basic\s", r"(?i)aws", r"(?i)pass(?:word|wd|phrase)?" + _NAMED,
              r"(?i)pwd" + _NAMED, r"(?i)secret" + _NAMED, r"(?i)key" + _NAMED, r"(?i)token" + _NAMED)
_SECRET_KEY_NAMES = (
    r"password|passwd|pwd|passphrase|secret|client_secret|api[_-]?key|apikey|"
    r"access[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token|private[_-]?key|token"
)

DETECTORS: tuple[Detector, ...] = (
    Detector("private_key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----|(?:[A-Za-z0-9+/=\s]|\\[nr])*)",
             note="PEM blocks, also when cut off or with JSON-escaped newlines (a GCP service-account file)"),
    Detector("gcp_service_account", r"(\"private_key_id\\?\"\s*:\s*\\?\")[0-9a-f]{40}", keep="${1}",
             note="the key id of a GCP service-account JSON (its private_key is a PEM block, its client_email an email)",
             gates=(r"private_key_id",)),
    Detector("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", gates=(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ",)),
    Detector("url_credentials", r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)[^\s:/@]+:[^\s/@]+@", keep="${1}",
             note="user:password@ in any URL scheme; the host stays", gates=(r"://[^\s:/@]+:[^\s/@]+@",)),
    Detector("anthropic_key", r"\bsk-ant-[A-Za-z0-9_-]{20,}", gates=(r"sk-ant-[A-Za-z0-9_-]{20}",)),
    Detector("openai_key", r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}", gates=(r"sk-[A-Za-z0-9_-]{20}",)),
    Detector("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}", gates=(r"_(?:live|test)_[0-9A-Za-z]{16}",)),
    Detector("sk_key", r"\bsk-[A-Za-z0-9_-]{20,}", note="generic sk- keys (OpenAI legacy, DeepSeek, ...)",
             gates=(r"sk-[A-Za-z0-9_-]{20}",)),
    Detector("aws_access_key_id", r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b", gates=(r"A(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}",)),
    Detector("aws_secret_key", r"(?i)(aws[a-z0-9_ .-]{0,30}(?:secret|key)[a-z0-9_ .-]{0,20}[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9/+]{40}\b",
             keep="${1}", note="40-char secret next to an aws...secret/key name", gates=_KEY_NAMED),
    Detector("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
             gates=(r"g(?:h[pousr]_[A-Za-z0-9]{36}|ithub_pat_)",)),
    # Provider tokens with a distinctive prefix (formats from the providers' docs and gitleaks' rules).
    Detector("huggingface_token", r"\b(?:hf|api_org)_[A-Za-z0-9]{34,40}\b", gates=(r"hf_[A-Za-z0-9]{34}", r"api_org_"),
             note="user (hf_) and organization (api_org_) tokens"),
    Detector("replicate_token", r"\br8_[A-Za-z0-9]{37}\b", gates=(r"r8_[A-Za-z0-9]{37}",)),
    Detector("groq_key", r"\bgsk_[A-Za-z0-9]{52}\b", gates=(r"gsk_[A-Za-z0-9]{52}",)),
    Detector("together_key", r"\btgp_v1_[A-Za-z0-9_-]{43}", gates=(r"tgp_v1_",)),
    Detector("fireworks_key", r"\bfw_[A-Za-z0-9]{20,}\b", gates=(r"fw_[A-Za-z0-9]{20}",)),
    Detector("pinecone_key", r"\bpcsk_[A-Za-z0-9_]{40,}", gates=(r"pcsk_",)),
    Detector("langsmith_key", r"\b(?:lsv2_(?:pt|sk)_[0-9a-f]{32}_[0-9a-f]{10}|ls__[0-9a-f]{32})\b", gates=(r"ls(?:v2|_)_",),
             note="LangSmith personal/service keys (lsv2_pt_, lsv2_sk_) and legacy ls__ keys"),
    Detector("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b", gates=(r"npm_[A-Za-z0-9]{36}",)),
    Detector("pypi_token", r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}", gates=(r"pypi-AgEIcHlwaS5vcmc",)),
    Detector("sendgrid_key", r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b", gates=(r"SG\.[A-Za-z0-9_-]{22}\.",)),
    Detector("twilio_key", r"\bSK[0-9a-fA-F]{32}\b", gates=(r"SK[0-9a-fA-F]{32}",),
             note="API key SIDs; auth tokens are bare hex and only caught next to a key name"),
    Detector("slack_token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/services/[A-Za-z0-9/]+",
             gates=(r"xox[abposr]-", r"https://hooks\.slack\.com/services/")),
    Detector("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}", gates=(r"AIza[0-9A-Za-z_-]{35}",)),
    Detector("bearer_token", r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/-]{8,}=*", keep="${1} ", gates=_KEY_NAMED),
    Detector("basic_auth", r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?basic)\s+[A-Za-z0-9+/]{4,}={0,2}", keep="${1} ",
             note="Authorization: Basic <base64 user:password>", gates=_KEY_NAMED),
    Detector("url_encoded_pair",
             r"(?i)\b([A-Za-z0-9_.-]*?(?:" + _SECRET_KEY_NAMES + r"))((?:%2[27])?%3[ad](?:%2[027])*)"
             r"(?:[^\s\"'`,;&%<>]|%(?:[013-9a-f][0-9a-f]|2[13-589a-f])){3,}",
             keep="${1}${2}", note="password%3D..., api_key%22%3A%22... in URL-encoded text", gates=(r"%3[AaDd]",)),
    Detector("credential_pair",
             r"(?i)\b([A-Za-z0-9_.-]*?(?:" + _SECRET_KEY_NAMES + r"))\b([\"']?\s*[:=]\s*[\"']?)[^\s\"'`,;&<>\[][^\s\"'`,;&<>]{3,}",
             keep="${1}${2}", note="password=, api_key: \"...\", secret: ... in any quoting; the key name stays",
             gates=_KEY_NAMED),
    Detector("email", r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b", gates=(r"@[A-Za-z0-9-]+\.",)),
    Detector("credit_card",
             r"\b(?:(?:4[0-9]{3}|5[1-5][0-9]{2}|2[2-7][0-9]{2}|6011|65[0-9]{2})(?:[ -]?[0-9]{4}){3}|3[47][0-9]{2}[ -]?[0-9]{6}[ -]?[0-9]{5})\b",
             note="Visa, Mastercard, Amex, Discover layouts; RE2 cannot check Luhn, so invalid numbers in card layout are redacted too",
             gates=tuple(lead + r"[0-9]{2}[ -]?[0-9]{4}" for lead in ("4[0-9]", "5[1-5]", "2[2-7]", "6[05]", "3[47]"))),
    Detector("us_ssn", r"\b(?:00[1-9]|0[1-9][0-9]|[1-578][0-9]{2}|6[0-57-9][0-9]|66[0-57-9])-(?:0[1-9]|[1-9][0-9])-(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})\b",
             gates=(r"-[0-9]{2}-[0-9]{4}",)),
    Detector("phone", r"\+[1-9][0-9]{7,14}\b|\+[1-9][0-9]{0,2}[ .-][0-9]{2,4}[ .-][0-9]{3,4}[ .-][0-9]{3,4}\b|\(?\b[2-9][0-9]{2}\)?[ .-][2-9][0-9]{2}[ .-][0-9]{4}\b",
             note="E.164, international with separators, North American",
             gates=(r"\+[1-9]",) + tuple(sep + r"[2-9][0-9]{2}[ .-][0-9]{4}" for sep in (" ", r"\.", "-"))),
    Detector("ipv4", r"\b" + _OCTET + r"(?:\." + _OCTET + r"){3}\b", gates=(r"\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]",)),
)
