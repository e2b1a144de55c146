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

`check` names a validity check the gateway applies to each match after the regex (Go,
llmredactprocessor/validate.go): a match that fails it is left alone. `by_key`: the regex
matches an attribute key (a header attribute such as `http.request.header.api-key`), and the
whole string value under it (each string of a list) is replaced; such a detector needs gates.
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
    check: str = ""               # luhn | mod97 | ipv4 | email | bearer | phone (validate.go)
    by_key: bool = False

    @property
    def checks(self) -> tuple[str, ...]:
        return self.gates or (self.regex,)

    @property
    def replacement(self) -> str:
        return self.keep + TAG.format(self.name)


_SSN_TAIL = r"(?:0[1-9]|[1-9][0-9]) (?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
# Gates shared by the key-name detectors. Each starts with a literal: the gateway checks
# `(?i)` gates on a lowercased copy of the text, where Go's regexp skips to the literal.
# One case-insensitive alternation cost ~40x more than all of them (docs/benchmarks.md).
# `[\\"']*`: a key's closing quote may be escaped, once or more (JSON inside a JSON string).
_NAMED = r"[\\\"']*\s*[:=]"
_KEY_NAMED = (r"(?i)bearer\s", r"(?i)basic\s", r"(?i)aws", r"(?i)pass(?:word|wd|phrase)?" + _NAMED,
              r"(?i)pwd" + _NAMED, r"(?i)secret" + _NAMED, r"(?i)key" + _NAMED, r"(?i)token" + _NAMED)
_Q = r'\\*"'   # a double quote, escaped any number of times
_SEP = r"[\\\"']*\s*[:=]\s*[\\\"']*"   # key/value separator, quotes escaped or not
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
    Detector("url_credentials", r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)[^\s:/@]*:[^\s/@]+@", keep="${1}",
             note="user:password@ in any URL scheme, also with an empty user (redis://:pass@host); the host stays",
             gates=(r"://[^\s:/@]*:[^\s/@]+@",)),
    Detector("anthropic_key", r"\bsk-ant-[A-Za-z0-9_-]{20,}", gates=(r"sk-ant-[A-Za-z0-9_-]{20}",)),
    Detector("openai_key", r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}", gates=(r"sk-[A-Za-z0-9_-]{20}",)),
    Detector("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}", gates=(r"_(?:live|test)_[0-9A-Za-z]{16}",)),
    Detector("sk_key", r"\bsk-[A-Za-z0-9_-]{20,}", note="generic sk- keys (OpenAI legacy, DeepSeek, ...)",
             gates=(r"sk-[A-Za-z0-9_-]{20}",)),
    Detector("aws_access_key_id", r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b", gates=(r"A(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}",)),
    Detector("aws_secret_key",
             r"(?i)((?:aws[a-z0-9_ .-]{0,30}(?:secret|key)|secret[_-]?access[_-]?key)[a-z0-9_ .-]{0,20}" + _SEP + r")[A-Za-z0-9/+]{40}\b",
             keep="${1}", note="40-char secret next to an aws...secret/key or SecretAccessKey name", gates=_KEY_NAMED),
    Detector("aws_session_token",
             r"(?i)((?:aws[_-]?session[_-]?token|sessiontoken|x-amz-security-token)" + _SEP + r")[A-Za-z0-9/+=]{16,}",
             keep="${1}", note="STS session tokens next to their names (env, STS JSON, the x-amz-security-token header as text)",
             gates=_KEY_NAMED + (r"(?i)x-amz-security-token",)),
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
    # GitLab's documented token prefixes (docs.gitlab.com, "Token prefixes"); routable tokens add
    # dots, CI job tokens an underscore; GR1348941 is the legacy runner registration prefix.
    Detector("gitlab_token",
             r"\b(?:gl(?:pat|oas|dt|rt|cbt|ptt|ft|imt|agent|soat|ffct|wt)-[0-9A-Za-z_.-]{20,}|GR1348941[0-9A-Za-z_-]{20,})",
             gates=(r"gl(?:pat|oas|dt|rt|cbt|ptt|ft|imt|agent|soat|ffct|wt)-[0-9A-Za-z_.-]{20}", r"GR1348941")),
    Detector("discord_webhook",
             r"(https://(?:(?:canary|ptb)\.)?discord(?:app)?\.com/api/(?:v[0-9]+/)?webhooks/)[0-9]{17,20}/[A-Za-z0-9_-]{60,68}",
             keep="${1}", note="the webhook's id and token; the endpoint stays", gates=(r"discord(?:app)?\.com/api/",)),
    Detector("google_oauth_token", r"\bya29\.[0-9A-Za-z_-]{20,}", gates=(r"ya29\.",)),
    Detector("databricks_token", r"\bdapi[0-9a-f]{32}(?:-[0-9]+)?\b", gates=(r"dapi[0-9a-f]{32}",)),
    Detector("azure_storage_key", r"((?:\bAccountKey|\bSharedAccessKey|[?&;]sig)=)[A-Za-z0-9%+/]{20,}={0,2}", keep="${1}",
             note="connection strings (AccountKey=, SharedAccessKey=) and SAS signatures (sig=); the rest stays",
             gates=(r"AccountKey=", r"SharedAccessKey=", r"sig=")),
    Detector("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}", gates=(r"AIza[0-9A-Za-z_-]{35}",)),
    # Header attributes (semconv http.request.header.<name>, a list of strings) whose whole value
    # is a credential without a distinctive format: Azure OpenAI's api-key, AWS session tokens.
    Detector("secret_header", r"(?i)(?:^|[._-])(?:x-amz-security-token|api[_-]key|authorization|cookie|subscription-key|"
             r"auth-token|private-token|gitlab-token)$", by_key=True,
             note="matches the attribute key; every string under it is replaced",
             gates=tuple("(?i)" + g for g in ("x-amz-security-token", "api-key", "api_key", "authorization", "cookie",
                                              "subscription-key", "auth-token", "private-token", "gitlab-token"))),
    # An attribute (or a map entry) named like a credential holds one whole: {"db_password": "..."}
    # and the OTLP-map form of tool arguments {name: "api_key", value: "..."}. Bare "token", "key"
    # and "pwd" are left out: next_page_token, cache key names and the like are common and benign.
    Detector("secret_attribute", r"(?i)(?:^|[._-])(?:password|passwd|passphrase|secret|api[_-]?key|apikey|"
             r"access[_-]?key|private[_-]?key|auth[_-]?token|access[_-]?token|refresh[_-]?token)$", by_key=True,
             note="matches the key (or a map's `name` next to its `value`); every string under it is replaced",
             gates=tuple("(?i)" + g for g in ("password", "passwd", "passphrase", "secret", "api_key", "api-key", "apikey",
                                              "access_key", "access-key", "accesskey", "private_key", "private-key", "privatekey",
                                              "auth_token", "auth-token", "authtoken", "access_token", "access-token",
                                              "accesstoken", "refresh_token", "refresh-token", "refreshtoken"))),
    Detector("bearer_token", r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/-]{8,}=*", keep="${1} ", gates=_KEY_NAMED, check="bearer",
             note="the check leaves a plain lowercase word (prose: 'the bearer instrument')"),
    Detector("basic_auth", r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?basic)\s+[A-Za-z0-9+/]{4,}={0,2}", keep="${1} ",
             note="Authorization: Basic <base64 user:password>", gates=_KEY_NAMED),
    Detector("url_encoded_pair",
             r"(?i)\b([A-Za-z0-9_.-]*?(?:" + _SECRET_KEY_NAMES + r"))((?:%2[27])?%3[ad](?:%2[027])*)"
             r"(?:[^\s\"'`,;&%<>]|%(?:[013-9a-f][0-9a-f]|2[13-589a-f])){3,}",
             keep="${1}${2}", note="password%3D..., api_key%22%3A%22... in URL-encoded text", gates=(r"%3[AaDd]",)),
    Detector("credential_pair",
             r"(?i)\b([A-Za-z0-9_.-]*?(?:" + _SECRET_KEY_NAMES + r"))\b(" + _SEP + r")"
             r"(?:[^\s\"'`,;&<>\[\\]|\\[^\s\"'\\])(?:[^\s\"'`,;&<>\\]|\\[^\s\"'\\]){3,}",
             keep="${1}${2}", note="password=, api_key: \"...\", secret: ... in any quoting; the key name stays",
             gates=_KEY_NAMED),
    Detector("name_value_pair",
             r"(?i)(" + _Q + r"name" + _Q + r"\s*:\s*" + _Q + r"[A-Za-z0-9_.-]*?(?:" + _SECRET_KEY_NAMES + r")" + _Q
             + r"(?:\s*,\s*" + _Q + r"[a-z_]+" + _Q + r"\s*:\s*" + _Q + r"[^\"\\]*" + _Q + r")*?\s*,\s*"
             + _Q + r"value" + _Q + r"\s*:\s*" + _Q + r")[^\"\\]+", keep="${1}",
             note='tool arguments as {"name": "api_key", "value": "..."} (other fields between allowed; name first)',
             gates=(r"(?i)value[\\\"]*\s*:",)),
    # Before the cards: an IBAN's digit groups can look like one.
    Detector("iban", r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b", check="mod97",
             note="with or without the usual spaces; the ISO 13616 mod-97 check leaves other codes",
             gates=(r"[A-Z]{2}[0-9]{2} ?[A-Z0-9]{4}",)),
    Detector("email", r"\b[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b", check="email",
             note="also URL-encoded (alice%40example.com); the check leaves user@host:path (git SSH remotes)",
             gates=(r"@[A-Za-z0-9-]+\.", r"%40[A-Za-z0-9-]+\.")),
    Detector("credit_card",
             r"\b(?:(?:4[0-9]{3}|5[1-5][0-9]{2}|2[2-7][0-9]{2}|6011|65[0-9]{2})(?:[ -]?[0-9]{4}){3}|3[47][0-9]{2}[ -]?[0-9]{6}[ -]?[0-9]{5})\b",
             check="luhn", note="Visa, Mastercard, Amex, Discover layouts that pass the Luhn check",
             gates=tuple(lead + r"[0-9]{2}[ -]?[0-9]{4}" for lead in ("4[0-9]", "5[1-5]", "2[2-7]", "6[05]", "3[47]"))),
    Detector("us_ssn", r"\b(?:00[1-9]|0[1-9][0-9]|[1-578][0-9]{2}|6[0-57-9][0-9]|66[0-57-9])(?:-" + _SSN_TAIL.replace(" ", "-")
             + r"| " + _SSN_TAIL + r")\b", note="with dashes or spaces", gates=(r"-[0-9]{2}-[0-9]{4}", r" [0-9]{2} [0-9]{4}")),
    Detector("phone", r"\+[1-9][0-9]{7,14}\b|\+[1-9][0-9]{0,2}(?:[ .-][0-9]{1,7}){1,6}\b|\(?\b[2-9][0-9]{2}\)?[ .-][2-9][0-9]{2}[ .-][0-9]{4}\b",
             check="phone", note="E.164, international in any national grouping (+44 7700 900123, +33 6 12 34 56 78), "
             "North American; the check wants 8 to 15 digits (E.164)",
             gates=(r"\+[1-9]",) + tuple(sep + r"[2-9][0-9]{2}[ .-][0-9]{4}" for sep in (" ", r"\.", "-"))),
    Detector("ipv4", r"\b[0-9]{1,3}(?:\.[0-9]{1,3}){3}\b", check="ipv4",
             note="the check: octets 0-255 without leading zeros, not part of a longer dotted number, not after a version word",
             gates=(r"\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]",)),
)
