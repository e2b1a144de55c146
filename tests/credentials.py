"""Credentials and personal data written by hand from the providers' documented formats (and
the examples in their docs and SDKs), one row per alternative of each detector's pattern: never
drawn from loadgen/secrets.py or telemetry/detectors.py, so a detector that loses an alternative
(AWS's temporary ASIA keys, Slack's xoxp- tokens) fails a row here.

SAMPLES rows are (detector, text, secret): `secret` is exactly the part of `text` the detector
replaces with its tag; everything else in `text` must come out unchanged. Each text carries a few
words of context at both ends, so random words placed around it cannot extend a match.
NEGATIVES are (detector, text): near misses that must come out unchanged.
Lengths are spelled with `_n` (a fixed run of characters) where the format is "prefix + N chars"."""
from __future__ import annotations

_ALNUM = "Zq7Wm3Kx9Tb2Vn8Rc4Hd6Jf1Lp5Ys0Ge"


def _n(count: int, alphabet: str = _ALNUM) -> str:
    """`count` characters of `alphabet`, repeated: a token body of a documented length."""
    return (alphabet * (count // len(alphabet) + 1))[:count]


HEX = "0123456789abcdef"
PEM_BODY = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"
JWT_IO = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
          ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")   # jwt.io's example token

SAMPLES: tuple[tuple[str, str, str], ...] = (
    # PEM: PKCS#1, PKCS#8, OpenSSH and EC headers; a block cut off; JSON-escaped newlines (GCP key file).
    *(("private_key", f"key: {block} end", block) for block in (
        f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----",
        f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n-----END PRIVATE KEY-----",
        f"-----BEGIN OPENSSH PRIVATE KEY-----\n{PEM_BODY}\n-----END OPENSSH PRIVATE KEY-----",
        f"-----BEGIN EC PRIVATE KEY-----\\n{PEM_BODY}\\n-----END EC PRIVATE KEY-----")),
    ("private_key", f"pasted -----BEGIN PRIVATE KEY-----\n{PEM_BODY}", f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}"),
    # GCP service-account key file: plain JSON and JSON inside a JSON string.
    ("gcp_service_account", '{"type": "service_account", "private_key_id": "' + _n(40, HEX) + '", "x": 1}', _n(40, HEX)),
    ("gcp_service_account", '{\\"private_key_id\\": \\"' + _n(40, HEX) + '\\"} end', _n(40, HEX)),
    ("jwt", f"session cookie {JWT_IO} sent", JWT_IO),
    # Anthropic (api03 and admin01 keys).
    ("anthropic_key", f"key sk-ant-api03-{_n(93)}AA in env", f"sk-ant-api03-{_n(93)}AA"),
    ("anthropic_key", f"admin sk-ant-admin01-{_n(40)} here", f"sk-ant-admin01-{_n(40)}"),
    # OpenAI: project, service-account and admin keys; legacy sk- keys (and DeepSeek's 32 hex) are sk_key.
    ("openai_key", f"OPENAI_API_KEY=x sk-proj-{_n(48)}_{_n(20)} set", f"sk-proj-{_n(48)}_{_n(20)}"),
    ("openai_key", f"svc sk-svcacct-{_n(40)} set", f"sk-svcacct-{_n(40)}"),
    ("openai_key", f"org sk-admin-{_n(40)} set", f"sk-admin-{_n(40)}"),
    ("sk_key", f"legacy sk-{_n(48)} works", f"sk-{_n(48)}"),
    ("sk_key", f"deepseek sk-{_n(32, HEX)} works", f"sk-{_n(32, HEX)}"),
    # Stripe: secret, restricted and publishable keys, live and test.
    *(("stripe_key", f"charge with {kind}_{mode}_{_n(24)} now", f"{kind}_{mode}_{_n(24)}")
      for kind in ("sk", "rk", "pk") for mode in ("live", "test")),
    # AWS access key ids (IAM user AKIA, STS temporary ASIA, ABIA, ACCA): AWS's documented example id.
    *(("aws_access_key_id", f"id {prefix}IOSFODNN7EXAMPLE rotated", f"{prefix}IOSFODNN7EXAMPLE")
      for prefix in ("AKIA", "ASIA", "ABIA", "ACCA")),
    # AWS secret access keys next to their names: aws...secret, aws...key, secret_access_key.
    ("aws_secret_key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("aws_secret_key", 'export AWS_SECRET_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" ok', "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("aws_secret_key", "secret-access-key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY ok", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("aws_session_token", f"AWS_SESSION_TOKEN={_n(120)} ok", _n(120)),
    ("aws_session_token", f"x-amz-security-token: FwoGZXIvYXdzE{_n(60)} ok", f"FwoGZXIvYXdzE{_n(60)}"),
    ("aws_session_token", f'{{"SessionToken": "IQoJb3JpZ2luX2Vj{_n(80)}"}}', f"IQoJb3JpZ2luX2Vj{_n(80)}"),
    # GitHub: classic PAT, OAuth, user-to-server, server-to-server, refresh; fine-grained PAT.
    *(("github_token", f"token gh{kind}_{_n(36)} expired", f"gh{kind}_{_n(36)}") for kind in "pousr"),
    ("github_token", f"pat github_pat_11ABCDEFG0{_n(12)}_{_n(59)} expired", f"github_pat_11ABCDEFG0{_n(12)}_{_n(59)}"),
    ("huggingface_token", f"HF_TOKEN hf_{_n(34)} for the hub", f"hf_{_n(34)}"),
    ("huggingface_token", f"org api_org_{_n(34)} for the hub", f"api_org_{_n(34)}"),
    ("replicate_token", f"replicate with r8_{_n(37)} please", f"r8_{_n(37)}"),
    ("groq_key", f"groq key gsk_{_n(52)} hit the limit", f"gsk_{_n(52)}"),
    ("together_key", f"together tgp_v1_{_n(43, _ALNUM + '_-')} works", f"tgp_v1_{_n(43, _ALNUM + '_-')}"),
    ("fireworks_key", f"fireworks fw_{_n(24)} expired", f"fw_{_n(24)}"),
    ("pinecone_key", f"pinecone pcsk_{_n(6)}_{_n(63)} index", f"pcsk_{_n(6)}_{_n(63)}"),
    # LangSmith: personal (pt) and service (sk) keys, legacy ls__.
    ("langsmith_key", f"ls lsv2_pt_{_n(32, HEX)}_{_n(10, HEX)} on", f"lsv2_pt_{_n(32, HEX)}_{_n(10, HEX)}"),
    ("langsmith_key", f"ls lsv2_sk_{_n(32, HEX)}_{_n(10, HEX)} on", f"lsv2_sk_{_n(32, HEX)}_{_n(10, HEX)}"),
    ("langsmith_key", f"ls ls__{_n(32, HEX)} on", f"ls__{_n(32, HEX)}"),
    ("npm_token", f"publish with npm_{_n(36)} please", f"npm_{_n(36)}"),
    ("pypi_token", f"upload with pypi-AgEIcHlwaS5vcmc{_n(60)} please", f"pypi-AgEIcHlwaS5vcmc{_n(60)}"),
    ("sendgrid_key", f"mail via SG.{_n(22)}.{_n(43)} today", f"SG.{_n(22)}.{_n(43)}"),
    ("twilio_key", f"sms via SK{_n(32, HEX)} today", f"SK{_n(32, HEX)}"),
    # Slack: bot, user, app-level, workspace-refresh tokens; an incoming webhook (Slack's documented example).
    *(("slack_token", f"post with xox{kind}-1234567890-{_n(24)} ok", f"xox{kind}-1234567890-{_n(24)}") for kind in "abposr"),
    ("slack_token", "hook https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX ok",
     "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"),
    ("google_api_key", f"maps key AIza{_n(35)} fails", f"AIza{_n(35)}"),
    ("bearer_token", f"header Authorization: Bearer {_n(28)} sent", _n(28)),
    ("bearer_token", f"header authorization: BEARER {_n(12)}== sent", f"{_n(12)}=="),
    ("basic_auth", "sent Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l end", "YWxhZGRpbjpvcGVuc2VzYW1l"),   # RFC 7617's example
    ("basic_auth", 'sent {"authorization": "basic YWxhZGRpbjpvcGVuc2VzYW1l"} end', "YWxhZGRpbjpvcGVuc2VzYW1l"),
    # URL-encoded key=value and "key":"value" (quotes %22 or %27).
    ("url_encoded_pair", "redirect=%2Flogin%3Fpassword%3DHunter2xyz%26next%3D1 ok", "Hunter2xyz"),
    ("url_encoded_pair", "q=%7B%22api_key%22%3A%22Zq7Wm3Kx9%22%7D ok", "Zq7Wm3Kx9"),
    ("url_encoded_pair", "q=%7B%27client_secret%27%3a%27Zq7Wm3Kx9%27%7D ok", "Zq7Wm3Kx9"),
    # key=value / key: "value" for each credential name the pattern lists.
    *(("credential_pair", f"retry with {name}=Zq7Wm3Kx9Tb end", "Zq7Wm3Kx9Tb") for name in (
        "password", "passwd", "pwd", "passphrase", "secret", "client_secret", "api_key", "api-key", "apikey",
        "access_key", "accesskey", "access_token", "auth_token", "refresh_token", "private_key", "token")),
    ("credential_pair", 'cfg {"db_password": "Zq7Wm3Kx9"} end', "Zq7Wm3Kx9"),
    ("credential_pair", "cfg secret: 'Zq7Wm3Kx9Tb' end", "Zq7Wm3Kx9Tb"),
    ("url_credentials", "connect to postgres://svc_app:Zq7Wm3Kx9@db.internal:5432/orders now", "svc_app:Zq7Wm3Kx9@"),
    ("url_credentials", "broker amqps://guest:guest@rabbit:5671 now", "guest:guest@"),
    ("gitlab_token", "push with glpat-xY7zQ2mN8bV4cR1tK9pL now", "glpat-xY7zQ2mN8bV4cR1tK9pL"),
    ("discord_webhook", f"notify https://discord.com/api/webhooks/112233445566778899/{_n(68)} on failure",
     f"112233445566778899/{_n(68)}"),
    ("google_oauth_token", f"gcloud token ya29.{_n(60)} used", f"ya29.{_n(60)}"),
    ("databricks_token", f"databricks dapi{_n(32, HEX)} for the job", f"dapi{_n(32, HEX)}"),
    ("azure_storage_key", f"AccountName=acme;AccountKey={_n(86)}==;EndpointSuffix=core.windows.net", f"{_n(86)}=="),
    ("name_value_pair", 'args {"name": "api_key", "value": "nv 9Qx2Lm7Wp4Zr"} end', "nv 9Qx2Lm7Wp4Zr"),
    ("iban", "pay to GB82 WEST 1234 5698 7654 32 by Friday", "GB82 WEST 1234 5698 7654 32"),
    ("iban", "pay to DE89370400440532013000 by Friday", "DE89370400440532013000"),
    ("email", "reach me at jane.doe+llm@example.co.uk today", "jane.doe+llm@example.co.uk"),
    ("email", "u?e=alice%40example.com&t=1 end", "alice%40example.com"),
    # Cards (Luhn sums worked by hand): Visa, Mastercard 51-55 and 2-series, Discover 6011 and 65, Amex 34 and 37.
    *(("credit_card", f"my card {card} was charged", card) for card in (
        "4012 8888 8888 1881", "5105-1051-0510-5100", "2223 0031 2200 3222", "6011111111111117",
        "6500 0000 0000 0002", "3400 000000 00009", "378282246310005")),
    # SSN area numbers: 001-099 (00[1-9], 0[1-9][0-9]), 1xx-5xx/7xx/8xx, 6xx but 66x, 660-669 but 666.
    *(("us_ssn", f"my ssn is {ssn} for the form", ssn) for ssn in (
        "001-23-4567", "078 05 1120", "423-45-6789", "712-34-5678", "899 12 3456", "612-34-5678", "665-12-3456")),
    # Phones: E.164, international groupings, North American with brackets, dots and dashes.
    *(("phone", f"call me back at {phone} please", phone) for phone in (
        "+447911123456", "+44 7700 900123", "+33 6 12 34 56 78", "+1-415-555-2671", "(415) 555-2671",
        "415.555.2671", "415-555-2671")),
    ("ipv4", "requests from 203.0.113.7 are blocked", "203.0.113.7"),
    ("ipv4", "requests from 255.255.255.0 are blocked", "255.255.255.0"),
)

NEGATIVES: tuple[tuple[str, str], ...] = (
    ("private_key", "-----BEGIN PUBLIC KEY-----"),
    ("jwt", "eyJhbGciOiJIUzI1NiJ9 is only a header"),
    ("anthropic_key", "the sk-ant- prefix marks Anthropic keys"),
    ("openai_key", "sk-proj-short"),
    ("stripe_key", "sk_live_short"),
    ("aws_access_key_id", "AKIAIOSFODNN7EXAMPL is one short"),
    ("aws_access_key_id", "AKIAIOSFODNN7EXAMPLEX is one long"),
    ("aws_access_key_id", "AXIAIOSFODNN7EXAMPLE has no known prefix"),
    ("aws_secret_key", "aws_region = eu-west-1"),
    ("github_token", f"ghp_{_n(35)} is one short"),
    ("github_token", f"ghx_{_n(36)} has no known kind"),
    ("huggingface_token", f"hf_{_n(33)} is one short"),
    ("replicate_token", f"r8_{_n(36)} is one short"),
    ("groq_key", f"gsk_{_n(51)} is one short"),
    ("npm_token", f"npm_{_n(35)} is one short"),
    ("twilio_key", f"SK{_n(31, HEX)} is one short"),
    ("slack_token", "xoxz-1234567890-abc has no known kind"),
    ("google_api_key", f"AIza{_n(34)} is one short"),
    ("sendgrid_key", f"SG.{_n(21)}.{_n(43)} is short"),
    ("credential_pair", "the password field is required"),
    ("credential_pair", "next_page_token_count 3"),
    ("credit_card", "6500 0000 0000 0000"),   # Luhn sum 11
    ("us_ssn", "666-12-3456"),
    ("us_ssn", "900-12-3456"),
    ("us_ssn", "123-45-0000"),
    ("phone", "call 555-0100"),
    ("ipv4", "10.0.0.256"),
    ("ipv4", "010.1.2.3"),
)
