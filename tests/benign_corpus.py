"""Benign telemetry values (issue 34): what ordinary LLM-application telemetry carries and the
gateway must pass unchanged. Drawn from fixed lists and a seeded generator, so a failure names
a value that is always there. Documented exception (docs/gateway.md, Detectors, out of scope): a bare dotted
four-part number on its own (`1.2.3.4`, no version word before it) is an IPv4 address to the
gateway, so versions appear here as `v1.2.3.4`, `version 1.2.3.4`, `1.2.3.4-rc1`."""
from __future__ import annotations

import hashlib
import random
import uuid

MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4o-2024-08-06", "gpt-4.1-nano", "o3-mini", "o1-preview-2024-09-12",
          "claude-3-5-sonnet-20241022", "claude-sonnet-4-20250514", "claude-3-haiku@20240307",
          "gemini-2.5-flash", "gemini-1.5-pro-002", "models/text-embedding-004", "mistral-large-2411",
          "llama-3.1-70b-instruct", "meta-llama/Llama-3.3-70B-Instruct", "Qwen/Qwen2.5-72B-Instruct",
          "deepseek-r1-distill-qwen-32b", "command-r-plus-08-2024", "text-embedding-3-small",
          "anthropic.claude-3-5-sonnet-20240620-v1:0", "us.amazon.nova-pro-v1:0", "ft:gpt-4o-mini:acme::9zXy1234")
ROUTES = ("/v1/chat/completions", "/v1/embeddings", "/api/v2/users/{user_id}/sessions", "/healthz", "/readyz",
          "/v1/messages?beta=true", "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
          "/v1/projects/acme/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent",
          "/metrics", "/api/search?q=red+shoes&page=2", "/static/app.3f9a2c.js", "/v1/traces")
URLS = ("https://api.openai.com/v1/chat/completions", "https://api.anthropic.com/v1/messages",
        "https://acme.openai.azure.com/openai/deployments/gpt-4o/chat/completions",
        "https://github.com/open-telemetry/opentelemetry-python/releases/tag/v1.29.0",
        "git@github.com:acme/llm-gateway.git", "git@gitlab.com:acme/platform/infra.git",
        "ssh://git@github.com/acme/llm-gateway.git", "https://gitlab.com/acme/platform/-/merge_requests/42",
        "http://collector.llmobs.svc.cluster.local:4318/v1/traces", "https://hub.docker.com/r/otel/opentelemetry-collector",
        "https://discord.com/channels/112233445566778899/998877665544332211", "redis://cache.internal:6379/0",
        "postgres://db.internal:5432/app", "https://docs.gitlab.com/ee/security/tokens/", "s3://acme-traces/2025/01/02/")
K8S = ("llmobs-gateway-7d9f8b6c5-x2x4z", "llmobs", "kube-system", "coredns-5d78c9869d-8kq2w", "ip-10-0-12-34.ec2.internal",
       "gke-prod-pool-1-3f2a9c1b-k8s2", "statefulset/tempo-ingester-2", "deployment.apps/llm-router",
       "app.kubernetes.io/name=llm-router", "node-pool=gpu-a100")
PROSE = ("The bearer of this letter is our new engineer.", "the bearer instrument is payable on demand",
         "Bearer tokens expire after one hour.", "A bearer bond pays the holder.", "the bearer of bad news",
         "Use the API key from the vault, never from the prompt.", "Rotate the secret every 90 days.",
         "The token count grew after the prompt change.", "Passwords must have 12 characters.",
         "Send the invoice to the billing team.", "Version 2 of the prompt shortened answers by 20%.",
         "Call me when the deploy finishes.", "Phone support is open 9 to 5.", "Cookies are disabled in the widget.",
         "The authorization step failed for tenant acme.", "IBAN and BIC fields are optional.")
SUMMARIES = ("prompt_tokens=12 completion_tokens=30", "prompt_tokens=1834 completion_tokens=402 total_tokens=2236",
             "input_tokens=77 output_tokens=5 cache_read_input_tokens=0", "tokens in=512 out=128", "finish_reason=stop")


def _non_luhn_16(rng: random.Random) -> str:
    """A 16-digit number in card layout whose Luhn sum is not a multiple of 10."""
    while True:
        digits = [rng.choice((4, 5))] + [rng.randrange(10) for _ in range(15)]
        total = sum(d if i % 2 == 0 else (2 * d - 9 if d > 4 else 2 * d) for i, d in enumerate(reversed(digits)))
        if total % 10:
            return "".join(map(str, digits))


def values() -> list[str]:
    rng = random.Random(34)
    out = list(MODELS + ROUTES + URLS + K8S + PROSE + SUMMARIES)
    for _ in range(60):
        a, b, c, d = (rng.randrange(0, 30) for _ in range(4))
        out += [f"{a}.{b}.{c}", f"v{a}.{b}.{c}.{d}", f"version {a}.{b}.{c}.{d}", f"{a}.{b}.{c}.{d}-rc{d}",
                f"release {a}.{b}.{c}.{d}", f"build 10.0.{rng.randrange(10000, 30000)}.{rng.randrange(1000, 9999)}"]
    for _ in range(60):
        out += [str(uuid.UUID(int=rng.getrandbits(128), version=4)), f"{rng.getrandbits(128):032x}",
                f"{rng.getrandbits(64):016x}", hashlib.sha256(str(rng.random()).encode()).hexdigest(),
                hashlib.sha1(str(rng.random()).encode()).hexdigest(), f"chatcmpl-{rng.getrandbits(96):024x}",
                f"msg_01{rng.getrandbits(100):025x}", f"run-{rng.randrange(10**6)}"]
    for _ in range(40):
        n = _non_luhn_16(rng)
        out += [n, f"order {n}", f"{rng.randrange(10**9)}", f"{rng.uniform(0, 100):.4f}", f"-{rng.randrange(1000)}",
                f"{rng.randrange(1_600_000_000, 1_800_000_000)}{rng.randrange(10**9):09d}",
                f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:"
                f"{rng.randrange(60):02d}.{rng.randrange(10**6):06d}Z",
                f"prompt_tokens={rng.randrange(2000)} completion_tokens={rng.randrange(800)}",
                f"latency {rng.randrange(5, 9000)} ms", f"${rng.uniform(0, 5):.4f}"]
    for _ in range(20):
        out += [f"{rng.choice(MODELS)} answered in {rng.randrange(100, 9000)} ms",
                f"{rng.choice(K8S)} restarted {rng.randrange(1, 9)} times",
                f"GET {rng.choice(ROUTES)} 200", f"cloned {rng.choice(URLS[4:7])} at {rng.getrandbits(160):040x}"]
    return list(dict.fromkeys(out))
