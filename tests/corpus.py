"""Test corpora: one secret or PII sample per detector, and benign text that must pass unchanged."""
from __future__ import annotations

import hashlib
import random
import re
import uuid

# (detector, text as an app would log it, the sensitive part that must never leave the gateway)
SECRETS: tuple[tuple[str, str, str], ...] = (
    ("openai_key", "using key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAB7CD0ef", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAB7CD0ef"),
    ("anthropic_key", "ANTHROPIC key sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0EdCbA-xyz", "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0EdCbA-xyz"),
    ("sk_key", "legacy sk-9f8e7d6c5b4a39281706f5e4d3c2b1a0 in env", "sk-9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
    ("aws_access_key_id", "aws id AKIAIOSFODNN7EXAMPLE was used", "AKIAIOSFODNN7EXAMPLE"),
    ("aws_secret_key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("github_token", "token ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R for ci", "ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R"),
    ("slack_token", "slack bot xoxb-2048-4096-AbCdEfGhIjKlMnOp posted", "xoxb-2048-4096-AbCdEfGhIjKlMnOp"),
    ("google_api_key", "maps AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q call", "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"),
    ("stripe_key", "charge with sk_live_51HxYzAbCdEfGhIjKlMnOpQr", "sk_live_51HxYzAbCdEfGhIjKlMnOpQr"),
    ("jwt", "cookie eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok",
     "eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
    ("private_key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n-----END RSA PRIVATE KEY-----",
     "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"),
    ("bearer_token", "Authorization: Bearer abc123DEF456ghi789JKL0", "abc123DEF456ghi789JKL0"),
    ("credential_pair", "retry with password=hunter2-Tr0ub4dor", "hunter2-Tr0ub4dor"),
    ("credential_pair", '{"api_key": "zq8XkP0vLm3"}', "zq8XkP0vLm3"),
    ("credential_pair", "secret: 'BlueMoon42!'", "BlueMoon42!"),
    ("credential_pair", "DB_PASSWORD=\"c0rrect-h0rse\"", "c0rrect-h0rse"),
    # Go's (?i) folds s with U+017F and k with U+212A: the lowercased gates must not miss them.
    ("credential_pair", "retry with pa\u017fsword=hunter3-Long5", "hunter3-Long5"),
    ("credential_pair", "api_\u212aey=Zebra-77-Quartz", "Zebra-77-Quartz"),
    ("url_credentials", "connect postgres://admin:s3cr3tPa55@db.internal:5432/app", "s3cr3tPa55"),
    ("email", "contact jane.doe+llm@example.com please", "jane.doe+llm@example.com"),
    ("phone", "call me at +1 415 555 2671 tomorrow", "415 555 2671"),
    ("phone", "office (415) 555-2671", "555-2671"),
    ("phone", "mobile +447911123456", "+447911123456"),
    ("credit_card", "card 4111 1111 1111 1111 exp 12/29", "4111 1111 1111 1111"),
    ("credit_card", "mc 5555-5555-5555-4444", "5555-5555-5555-4444"),
    ("credit_card", "amex 378282246310005", "378282246310005"),
    ("us_ssn", "ssn 123-45-6789 on file", "123-45-6789"),
    ("ipv4", "client ip 192.168.10.24 blocked", "192.168.10.24"),
    # LLM-ecosystem tokens (formats from the providers' docs; values made up).
    ("huggingface_token", "HF_TOKEN=hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGhIj", "hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGhIj"),
    ("huggingface_token", "org token 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 used", "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"),
    ("replicate_token", "replicate r8_Q2w3E4r5T6y7U8i9O0pAsDfGhJkLzXcVbNm1q", "r8_Q2w3E4r5T6y7U8i9O0pAsDfGhJkLzXcVbNm1q"),
    ("groq_key", "groq 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 failed",
     "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"),
    ("together_key", "together tgp_v1_Abc123Def456Ghi789Jkl012Mno345Pqr678Stu901Vwx used", "tgp_v1_Abc123Def456Ghi789Jkl012Mno345Pqr678Stu901Vwx"),
    ("fireworks_key", "fireworks fw_3ZsK9pQ2mN7xV4bL8cR1tY6w in use", "fw_3ZsK9pQ2mN7xV4bL8cR1tY6w"),
    ("pinecone_key", "pinecone pcsk_4SU773_MzhiHDgW7hbCPMpx9jShvaJSxx4avqSLarbrhNaYDQPekQAVE1d3eWJ ok",
     "pcsk_4SU773_MzhiHDgW7hbCPMpx9jShvaJSxx4avqSLarbrhNaYDQPekQAVE1d3eWJ"),
    ("langsmith_key", "LANGCHAIN key lsv2_pt_0123456789abcdef0123456789abcdef_0a1b2c3d4e set",
     "lsv2_pt_0123456789abcdef0123456789abcdef_0a1b2c3d4e"),
    ("langsmith_key", "old langchain ls__0123456789abcdef0123456789abcdef here", "ls__0123456789abcdef0123456789abcdef"),
    ("npm_token", "publish with npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 now", "npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"),
    ("pypi_token", "twine pypi-AgEIcHlwaS5vcmcCJGQ2ZTk3YzY1LTk0NjItNDAwMC1hYmNkLWVmMDEyMzQ1Njc4OQACKlsz",
     "pypi-AgEIcHlwaS5vcmcCJGQ2ZTk3YzY1LTk0NjItNDAwMC1hYmNkLWVmMDEyMzQ1Njc4OQACKlsz"),
    ("sendgrid_key", "mail 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 sent",
     "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"),
    ("twilio_key", "twilio SK0123456789abcdef0123456789abcdef sid", "SK0123456789abcdef0123456789abcdef"),
    ("gcp_service_account", '{"type": "service_account", "project_id": "demo", "private_key_id": "3f2a9c1b7e4d5f60718293a4b5c6d7e8f9012345"}',
     "3f2a9c1b7e4d5f60718293a4b5c6d7e8f9012345"),
    ("private_key", '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\n-----END PRIVATE KEY-----\\n"}',
     "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"),
    ("private_key", '"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDf\\nT3xZ',
     "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDf"),
    # Encodings: HTTP Basic credentials, URL-encoded pairs.
    ("basic_auth", "Authorization: Basic dXNlcjpodW50ZXIyLVRyMHViNGRvcg==", "dXNlcjpodW50ZXIyLVRyMHViNGRvcg=="),
    ("basic_auth", "{'authorization': 'Basic YWRtaW46czNjcjN0'}", "YWRtaW46czNjcjN0"),
    ("url_encoded_pair", "next=%2Flogin%3Fuser%3Dbob%26password%3Dhunter2-Tr0ub4dor%26x%3D1", "hunter2-Tr0ub4dor"),
    ("url_encoded_pair", "body=%7B%22api_key%22%3A%22zq8XkP0vLm3Q%22%7D", "zq8XkP0vLm3Q"),
    # The gateway pre-checks a record's text as JSON: escapes must not hide a secret.
    ("bearer_token", "Authorization: Bearer\tQm9vdHN0cmFwVG9rZW4xMjM0", "Qm9vdHN0cmFwVG9rZW4xMjM0"),
    ("credential_pair", 'C:\\temp\\ "password": "Pa55\\w0rd-Xy"', "Pa55"),
    # Issue 34 (formats from the providers' docs; values made up by hand).
    ("gitlab_token", "git clone with glpat-xY7zQ2mN8bV4cR1tK9pL", "glpat-xY7zQ2mN8bV4cR1tK9pL"),
    ("gitlab_token", "runner glrt-t1_Ab3Cd5Ef7Gh9Ij1Kl3Mn registered", "glrt-t1_Ab3Cd5Ef7Gh9Ij1Kl3Mn"),
    ("discord_webhook", "alert to https://discord.com/api/webhooks/112233445566778899/Xy9_Wv8-Ut7Sr6Qp5On4Ml3Kj2Ih1Gf0EdCbAzYxWvUtSrQpOnMlKjIhGfEdCbA12 now",
     "Xy9_Wv8-Ut7Sr6Qp5On4Ml3Kj2Ih1Gf0EdCbAzYxWvUtSrQpOnMlKjIhGfEdCbA12"),
    ("google_oauth_token", "gcloud said ya29.a0AfH6SMBx7Qw2Er4Ty6Ui8Op0AsDfGhJkLzXcVbNm ok", "ya29.a0AfH6SMBx7Qw2Er4Ty6Ui8Op0AsDfGhJkLzXcVbNm"),
    ("databricks_token", "DATABRICKS dapi0123456789abcdef0123456789abcdef-2 set", "dapi0123456789abcdef0123456789abcdef"),
    ("azure_storage_key", "DefaultEndpointsProtocol=https;AccountName=acmelogs;AccountKey="
     "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6QUJDREVGR0g=;EndpointSuffix=core.windows.net",
     "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFi"),
    ("aws_session_token", "x-amz-security-token: FwoGZXIvYXdzEBYaDH7kQ2mN8bV4cR1tK9pLyKwAQ", "FwoGZXIvYXdzEBYaDH7kQ2mN8bV4cR1tK9pLyKwAQ"),
    ("aws_session_token", '{"SessionToken": "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ"}', "IQoJb3JpZ2luX2VjEJr"),
    ("aws_secret_key", '{"AccessKeyId": "ASIA-redacted", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLE12"}',
     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLE12"),
    ("url_credentials", "cache at redis://:Rd5-s3cret-Pw@cache.internal:6379/0", "Rd5-s3cret-Pw"),
    ("credential_pair", '{"tool_input": "{\\"password\\":\\"Esc4ped-Pa55\\"}"}', "Esc4ped-Pa55"),
    ("name_value_pair", 'args [{"name": "api_key", "type": "string", "value": "nv-9Qx2Lm7Wp4Zr"}]', "nv-9Qx2Lm7Wp4Zr"),
    ("name_value_pair", '{\\"name\\": \\"db_password\\", \\"value\\": \\"Tr1cky-Esc\\"}', "Tr1cky-Esc"),
    ("iban", "pay GB82 WEST 1234 5698 7654 32 today", "WEST 1234 5698 7654"),
    ("iban", "iban DE89370400440532013000 on file", "DE89370400440532013000"),
    ("phone", "uk mobile +44 7700 900123", "7700 900123"),
    ("phone", "berlin office +49 30 1234567", "30 1234567"),
    ("phone", "paris +33 6 12 34 56 78", "6 12 34 56 78"),
    ("us_ssn", "ssn 123 45 6789 on file", "123 45 6789"),
    ("email", "unsubscribe https://mail.example.com/u?e=alice%40example.com&t=1", "alice%40example.com"),
)

# Attribute keys whose whole value is a credential (by-key detectors): (detector, key, value).
HEADER_SECRETS: tuple[tuple[str, str, str], ...] = (
    ("secret_header", "http.request.header.api-key", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
    ("secret_header", "http.request.header.x-amz-security-token", "FwoGZXIvYXdzEBYaDH7kQ2mN8bV4"),
    ("secret_header", "http.request.header.authorization", "Token abcdefghijklmnop"),
    ("secret_header", "http.response.header.set-cookie", "session=8f7e6d5c4b3a"),
    ("secret_attribute", "db_password", "hunter2-Tr0ub4dor"),
)


def benign() -> list[str]:
    """At least 100 normal strings: prose, code, URLs, ids, model names, prices, dates."""
    rng = random.Random(7)
    sentences = [
        "Summarize the quarterly report in three bullet points.",
        "The retrieval step returned 8 documents from the product index.",
        "Please translate the following paragraph into French.",
        "What is the capital of Australia?",
        "The answer is Canberra, not Sydney.",
        "Our refund policy allows returns within 30 days of purchase.",
        "The model refused to answer because the request was out of scope.",
        "Latency improved by 35% after enabling prompt caching.",
        "Use a temperature of 0.2 for deterministic answers.",
        "The customer asked about shipping to Canada.",
        "Rewrite the query to include synonyms for laptop.",
        "Context window usage reached 92% on the long document.",
        "The tool call search_orders returned no results.",
        "Evaluate faithfulness against the retrieved context.",
        "A thumbs-down was recorded for the last answer.",
        "Deploy the new prompt version after the canary passes.",
        "The index was rebuilt at midnight with 1,204,332 chunks.",
        "Reply in a friendly tone and keep it under 100 words.",
        "Total cost for the batch was $4.27 across 1,500 requests.",
        "gpt-4o-mini costs $0.15 per million input tokens.",
        "claude-sonnet-4 handled 62% of the traffic this week.",
        "gemini-2.5-flash is the fallback model.",
        "text-embedding-3-small produced 1536-dimensional vectors.",
        "The meeting is on 2025-03-14 at 10:30 UTC.",
        "Release 3.11.7 fixed the tokenizer bug.",
        "Version v0.161.0 of the collector is pinned.",
        "Invoice INV-2024-00042 totals 1,299.00 EUR.",
        "Order #48213 shipped on Tuesday.",
        "The p95 latency was 2.4 seconds yesterday.",
        "Error rate stayed below 0.5% during the load test.",
        "Read the docs at https://opentelemetry.io/docs/specs/semconv/gen-ai/ first.",
        "See https://github.com/open-telemetry/opentelemetry-collector-contrib/issues/46304 for context.",
        "Download from https://pypi.org/project/grafanalib/0.7.1/ if needed.",
        "The API lives at https://api.example.com/v1/chat/completions.",
        "Health check: http://localhost:13133/",
        "Set OTEL_EXPORTER_OTLP_ENDPOINT to http://collector:4317 in the app.",
        "def add(a, b):\n    return a + b",
        "for i in range(10):\n    print(i * 2)",
        "SELECT id, name FROM users WHERE created_at > now() - interval '1 day';",
        "const total = items.reduce((sum, x) => sum + x.price, 0);",
        "if (tokens > maxTokens) { throw new Error('too long'); }",
        "kubectl get pods -n llmobs -o wide",
        "git commit -m 'Fix retry loop in the agent'",
        "pip install opentelemetry-sdk==1.45.2",
        "The function returned None after 3 retries.",
        "Matrix multiply took 12.5 ms on the GPU.",
        "The chunk size is 512 tokens with 64 tokens of overlap.",
        "BM25 and vector scores are fused with weights 0.3 and 0.7.",
        "The reranker kept the top 5 of 40 candidates.",
        "Hallucination flag was false for 98.2% of answers.",
        "Session length averaged 4 minutes and 12 seconds.",
        "The user prefers metric units.",
        "Convert 72 degrees Fahrenheit to Celsius.",
        "The recipe needs 200 g of flour and 2 eggs.",
        "Flight LH 454 departs at 17:45 from gate B12.",
        "Room 4.12 is booked from 09:00 to 11:00.",
        "The stock closed at 182.31, up 1.2 percent.",
        "Chapter 7 covers attention mechanisms.",
        "The password policy requires 12 characters minimum.",
        "Rotate the token every 90 days as policy says.",
        "The secret sauce is good documentation.",
        "Our API key rotation runbook lives in the wiki.",
        "Bearer tokens expire after one hour.",
        "Email support if the dashboard is empty.",
        "Call the on-call engineer when the alert fires.",
        "The prompt mentions a phone number field but none was given.",
        "IPv6 support is planned for the next quarter.",
        "Model fallback happened 14 times in the last hour.",
        "Tenant acme exceeded 80% of its daily budget.",
        "The safety filter blocked 3 responses for self-harm content.",
        "Cache hit ratio was 0.41 for the system prompt.",
        "Finish reason: stop.",
        "Finish reason: length.",
        "The embedding dimension is 3072.",
        "Run pytest -q to check the change.",
        "The build took 231 seconds on two cores.",
        "Dates like 2024-02-29 and 1999-12-31 are valid.",
        "The coordinates are 52.5200, 13.4050.",
        "Pi is approximately 3.14159.",
        "The ratio 16:9 fits the screen.",
        "Year over year growth was 12.4%.",
        # Near misses of the LLM-ecosystem and encoding detectors.
        "Basic authentication is disabled for the public API.",
        "hf_hub_download fetched the tokenizer files.",
        "The search link was /find?q%3Dred%2Bshoes%26page%3D2 on the old site.",
        "Set npm_config_cache before the install step.",
        "SKU-12345 and SK-1 are product codes.",
        "Run the fw_update tool, then the gsk_check script.",
        "pcsk_ keys replace the old Pinecone UUID keys.",
        "The token_count%3D42 field is a metric, not a credential.",
    ]
    generated = []
    for _ in range(8):
        generated.append(f"request id {uuid.UUID(int=rng.getrandbits(128), version=4)}")
        generated.append(f"trace_id={rng.getrandbits(128):032x}")
        generated.append(f"span {rng.getrandbits(64):016x} finished")
        generated.append(f"commit {hashlib.sha1(str(rng.random()).encode()).hexdigest()}")
    return sentences + generated


def index_example(pattern: str, index: int = 0) -> str:
    """A key an indexed alias pattern (telemetry/aliases.py) matches: its first alternative, with
    `index` for every item index."""
    key = re.sub(r"\(\?:([^|)]*)(\|[^)]*)?\)", r"\1", pattern.strip("^$"))
    key = key.replace("(\\d+)", str(index)).replace("([0-9]+)", str(index)).replace("\\.", ".")
    assert re.fullmatch(pattern, key), (pattern, key)
    return key
