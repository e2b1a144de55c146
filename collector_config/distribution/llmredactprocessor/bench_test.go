package llmredactprocessor

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// BenchmarkSpan runs the detectors of a rendered config (LLMREDACT_CONFIG, JSON of
// redact.native()) on a telemetrygen-like span: go test -bench Span (scripts/bench measures the gateway).
func BenchmarkSpan(b *testing.B) {
	r := benchRedactor(b)
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	benchSpan(span)
	s := &scan{r: r}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.record(s, span.Attributes(), nil, text{span.Name, span.SetName})
	}
}

// BenchmarkTraces runs the whole processor (decode, content policy, detectors, previews,
// guard) on batches of 100 such spans, each a fresh copy; ns/op is per batch.
func BenchmarkTraces(b *testing.B) {
	r := benchRedactor(b)
	batch := ptrace.NewTraces()
	spans := batch.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i := 0; i < 100; i++ {
		benchSpan(spans.AppendEmpty())
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		td := ptrace.NewTraces()
		batch.CopyTo(td)
		b.StartTimer()
		r.traces(td)
	}
}

func benchConfig(b *testing.B) *Config {
	path := os.Getenv("LLMREDACT_CONFIG")
	if path == "" {
		b.Skip("LLMREDACT_CONFIG not set")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	// The rendered config's keys are snake_case (mapstructure); encoding/json matches a field
	// name case-insensitively, so without the underscores every key finds its field (with them,
	// key_replacement, the guard's min_chars and others were silently left at zero).
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		b.Fatal(err)
	}
	raw, _ = json.Marshal(plainKeys(tree))
	var cfg Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		b.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	return &cfg
}

// benchRedactor: the config's redactor, with a key of its own where the config names a key file.
func benchRedactor(b *testing.B) *redactor {
	cfg := benchConfig(b)
	if cfg.Hash == HashHMAC {
		cfg.HashKeyFile = b.TempDir() + "/content_hash_key"
		if err := os.WriteFile(cfg.HashKeyFile, []byte("bench-content-hash-key-0123456789"), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	r := newRedactor(cfg)
	if err := r.hash.load(); err != nil {
		b.Fatal(err)
	}
	return r
}

func plainKeys(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range t {
			out[strings.ReplaceAll(k, "_", "")] = plainKeys(x)
		}
		return out
	case []any:
		for i, x := range t {
			t[i] = plainKeys(x)
		}
	}
	return v
}

// benchSpan: a span as scripts/bench sends it (telemetrygen, 20 LLM-like attributes).
func benchSpan(span ptrace.Span) {
	span.SetName("okey-dokey-0")
	a := span.Attributes()
	for k, v := range map[string]string{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
		"gen_ai.request.model": "gpt-4o-mini", "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
		"gen_ai.request.temperature": "0.2", "gen_ai.response.finish_reasons": "stop",
		"gen_ai.response.id": "chatcmpl-8f3a2c1d9e", "llmobs.tenant": "acme", "llmobs.feature": "chat",
		"llmobs.prompt.version": "support-v12", "user.id": "u-48213", "gen_ai.conversation.id": "c-9912",
		"server.address": "api.openai.com", "llmobs.request.id": "r-5521", "network.peer.address": "1.2.3.4",
		"peer.service":           "telemetrygen-server",
		"gen_ai.input.messages":  "How do I reset the router in the living room?",
		"gen_ai.output.messages": "Hold the reset button for ten seconds, then wait for the light to turn green."} {
		a.PutStr(k, v)
	}
	a.PutInt("gen_ai.usage.input_tokens", 812)
	a.PutInt("gen_ai.usage.output_tokens", 164)
	a.PutInt("server.port", 443)
}

// BenchmarkTracesUnique is BenchmarkTraces with the values real traffic does not repeat
// (ids, users, messages) different on every span, so no string's gate result is reused.
func BenchmarkTracesUnique(b *testing.B) {
	r := newRedactor(benchConfig(b))
	batch := ptrace.NewTraces()
	spans := batch.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i := 0; i < 100; i++ {
		benchSpan(spans.AppendEmpty())
	}
	n := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		td := ptrace.NewTraces()
		batch.CopyTo(td)
		for _, span := range td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().All() {
			n++
			a := span.Attributes()
			id := strconv.Itoa(n)
			a.PutStr("gen_ai.response.id", "chatcmpl-8f3a"+id)
			a.PutStr("user.id", "u-"+id)
			a.PutStr("llmobs.request.id", "r-"+id)
			a.PutStr("gen_ai.conversation.id", "c-"+id)
			a.PutStr("gen_ai.input.messages", "How do I reset router number "+id+" in the living room?")
			a.PutStr("gen_ai.output.messages", "Hold the reset button of router "+id+" for ten seconds, then wait for the light to turn green.")
		}
		b.StartTimer()
		r.traces(td)
	}
}
