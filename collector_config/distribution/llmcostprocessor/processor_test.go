package llmcostprocessor

import (
	"context"
	"math"
	"reflect"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
)

func testConfig() *Config {
	return &Config{
		ModelKeys:   []string{"gen_ai.response.model", "gen_ai.request.model"},
		InputTokens: "gen_ai.usage.input_tokens", OutputTokens: "gen_ai.usage.output_tokens",
		CachedTokens: "gen_ai.usage.cache_read.input_tokens",
		OperationKey: "gen_ai.operation.name", OperationRegex: `^(?:chat|text_completion|generate_content|embeddings)$`,
		CostKey: "llmobs.cost.usd", UnpricedKey: "llmobs.cost.unpriced",
		Prices: []Price{
			{Model: "gpt-4o", Pattern: `gpt-4o-20\d\d-\d\d-\d\d`, Input: 2.5, CachedInput: 1.25, Output: 10},
			{Model: "gpt-4o-mini", Pattern: `gpt-4o-mini-20\d\d-\d\d-\d\d`, Input: 0.15, CachedInput: 0.075, Output: 0.6},
			{Model: "claude-sonnet-4", Pattern: `claude-sonnet-4-\d{8}`, Input: 3, CachedInput: 0.3, Output: 15},
			{Model: "x-large", Pattern: `x-.*`, Input: 1, Output: 1},
			{Model: "x-small", Input: 2, Output: 2},
			{Model: "gpt-4o", Input: 99, Output: 99}, // listed twice: the first wins
			{Pattern: `[0-9]+`, Input: 1000, Output: 0},
		},
	}
}

func run(t *testing.T, cfg *Config, attrs map[string]any) map[string]any {
	t.Helper()
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	if err := span.Attributes().FromRaw(attrs); err != nil {
		t.Fatal(err)
	}
	sink := new(consumertest.TracesSink)
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(typ), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	return sink.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().AsRaw()
}

// Expected costs worked by hand: ((in - cached) * input + cached * cached_input + out * output) / 1e6.
func TestCost(t *testing.T) {
	for _, c := range []struct {
		name     string
		attrs    map[string]any
		cost     float64 // 0: no cost set
		unpriced bool
	}{
		{"exact request model, cached tokens", map[string]any{"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
			"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 500, "gen_ai.usage.cache_read.input_tokens": 200},
			0.00725, false}, // (800*2.5 + 200*1.25 + 500*10) / 1e6
		{"the response model is what was billed", map[string]any{"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
			"gen_ai.response.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 1000},
			0.00075, false}, // (1000*0.15 + 1000*0.6) / 1e6
		{"pattern, tokens as a string and a double", map[string]any{"gen_ai.operation.name": "text_completion",
			"gen_ai.response.model": "claude-sonnet-4-20250514", "gen_ai.usage.input_tokens": "2000", "gen_ai.usage.output_tokens": 100.0},
			0.0075, false}, // (2000*3 + 100*15) / 1e6
		{"telemetrygen's span: a dated response model", map[string]any{"gen_ai.operation.name": "chat",
			"gen_ai.request.model": "gpt-4o-mini", "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
			"gen_ai.usage.input_tokens": 812, "gen_ai.usage.output_tokens": 164},
			0.0002202, false}, // (812*0.15 + 164*0.6) / 1e6
		{"an exact name wins over an earlier pattern", map[string]any{"gen_ai.operation.name": "chat", "gen_ai.request.model": "x-small",
			"gen_ai.usage.input_tokens": 10}, 0.00002, false}, // 10*2 / 1e6, not x-large's 10*1
		{"the first of two exact entries", map[string]any{"gen_ai.operation.name": "embeddings", "gen_ai.request.model": "gpt-4o",
			"gen_ai.usage.input_tokens": 4}, 0.00001, false}, // 4*2.5 / 1e6
		{"unreadable counts are 0, a bool is 1", map[string]any{"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
			"gen_ai.usage.input_tokens": "lots", "gen_ai.usage.output_tokens": true, "gen_ai.usage.cache_read.input_tokens": []any{1}},
			0.00001, false}, // (0*2.5 + 1*10) / 1e6
		{"a numeric model is matched as its text", map[string]any{"gen_ai.operation.name": "chat", "gen_ai.request.model": 4,
			"gen_ai.usage.input_tokens": 3}, 0.003, false}, // 3*1000 / 1e6
		{"no price: unpriced, never guessed", map[string]any{"gen_ai.operation.name": "chat", "gen_ai.request.model": "llama-3-70b",
			"gen_ai.usage.input_tokens": 10}, 0, true},
		{"a pattern is a full match", map[string]any{"gen_ai.operation.name": "chat", "gen_ai.request.model": "my-gpt-4o-2024-08-06"}, 0, true},
		{"no model at all", map[string]any{"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 10}, 0, true},
		{"not an LLM operation", map[string]any{"gen_ai.operation.name": "execute_tool", "gen_ai.request.model": "gpt-4o",
			"gen_ai.usage.input_tokens": 10}, 0, false},
		{"an operation only the regexp's prefix matches", map[string]any{"gen_ai.operation.name": "chat2", "gen_ai.request.model": "gpt-4o"}, 0, false},
		{"no operation", map[string]any{"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 10}, 0, false},
	} {
		got := run(t, testConfig(), c.attrs)
		want := map[string]any{}
		for k, v := range c.attrs {
			want[k] = v
		}
		want = pcommonRaw(t, want)
		if c.cost != 0 {
			cost, ok := got["llmobs.cost.usd"].(float64)
			if !ok || math.Abs(cost-c.cost) > 1e-12*c.cost {
				t.Errorf("%s: cost %v, want %v", c.name, got["llmobs.cost.usd"], c.cost)
			}
			want["llmobs.cost.usd"] = got["llmobs.cost.usd"]
		}
		if c.unpriced {
			want["llmobs.cost.unpriced"] = true
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", c.name, got, want)
		}
	}
}

// pcommonRaw: what AsRaw gives back for attrs (ints become int64).
func pcommonRaw(t *testing.T, attrs map[string]any) map[string]any {
	m := pcommon.NewMap()
	if err := m.FromRaw(attrs); err != nil {
		t.Fatal(err)
	}
	return m.AsRaw()
}

func TestACostAlreadySetIsKept(t *testing.T) {
	attrs := map[string]any{"gen_ai.operation.name": "chat", "gen_ai.request.model": "unknown", "llmobs.cost.usd": 0.5}
	if got := run(t, testConfig(), attrs); !reflect.DeepEqual(got, attrs) {
		t.Errorf("got %v, want it unchanged", got)
	}
}

// OTTL reads an empty value as no value: the request model is priced, and an empty cost is
// overwritten in place.
func TestEmptyValuesAreAbsent(t *testing.T) {
	td := ptrace.NewTraces()
	a := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().Attributes()
	a.PutStr("gen_ai.operation.name", "chat")
	a.PutEmpty("llmobs.cost.usd")
	a.PutEmpty("gen_ai.response.model")
	a.PutStr("gen_ai.request.model", "gpt-4o")
	a.PutInt("gen_ai.usage.output_tokens", 100)
	newCoster(testConfig()).span(a)
	var keys []string
	for k := range a.All() {
		keys = append(keys, k)
	}
	if strings.Join(keys, ",") != "gen_ai.operation.name,llmobs.cost.usd,gen_ai.response.model,gen_ai.request.model,gen_ai.usage.output_tokens" {
		t.Errorf("keys %v: the cost must replace the empty value where it was", keys)
	}
	if v, _ := a.Get("llmobs.cost.usd"); v.Type() != pcommon.ValueTypeDouble || math.Abs(v.Double()-0.001) > 1e-15 {
		t.Errorf("cost %v, want 0.001 (100*10 / 1e6)", v.AsRaw())
	}
}

// A model with no JSON text (NaN) matches no pattern, as OTTL's IsMatch fails on it.
func TestNaNModelIsUnpriced(t *testing.T) {
	td := ptrace.NewTraces()
	a := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().Attributes()
	a.PutStr("gen_ai.operation.name", "chat")
	a.PutDouble("gen_ai.request.model", math.NaN())
	newCoster(testConfig()).span(a)
	if v, ok := a.Get("llmobs.cost.unpriced"); !ok || !v.Bool() {
		t.Errorf("attributes %v: want unpriced", a.AsRaw())
	}
}

func TestStringLike(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{"gpt-4o", "gpt-4o"}, {int64(4), "4"}, {1.5, "1.5"}, {true, "true"}, {[]byte{0xab, 0x01}, "ab01"},
		{map[string]any{"a": "<b>"}, `{"a":"\u003cb\u003e"}`}, {[]any{int64(1), "x"}, `[1,"x"]`},
	} {
		m := pcommon.NewMap()
		if err := m.FromRaw(map[string]any{"k": c.v}); err != nil {
			t.Fatal(err)
		}
		v, _ := m.Get("k")
		if got, ok := stringLike(v); !ok || got != c.want {
			t.Errorf("%v: %q %v, want %q", c.v, got, ok, c.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := testConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for field, mutate := range map[string]func(*Config){
		"model_keys":                           func(c *Config) { c.ModelKeys = nil },
		"cost_key":                             func(c *Config) { c.CostKey = "" },
		"operation_regex":                      func(c *Config) { c.OperationRegex = "(" },
		"prices[2] (claude-sonnet-4): pattern": func(c *Config) { c.Prices[2].Pattern = "[" },
		"prices[0]: model or pattern":          func(c *Config) { c.Prices[0] = Price{Input: 1} },
	} {
		cfg := testConfig()
		mutate(cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error %v, want one naming it", field, err)
		}
	}
}

// Every LLM span ends with exactly one of a cost and the unpriced mark; no input panics.
func FuzzCost(f *testing.F) {
	f.Add("chat", "gpt-4o-2024-08-06", "812", "164")
	f.Add("embeddings", "x-", "1e400", "-3")
	f.Add("chat", "", "NaN", "0x1p-2")
	f.Fuzz(func(t *testing.T, op, model, in, out string) {
		a := pcommon.NewMap()
		a.PutStr("gen_ai.operation.name", op)
		a.PutStr("gen_ai.request.model", model)
		a.PutStr("gen_ai.usage.input_tokens", in)
		a.PutStr("gen_ai.usage.output_tokens", out)
		newCoster(testConfig()).span(a)
		_, cost := a.Get("llmobs.cost.usd")
		_, unpriced := a.Get("llmobs.cost.unpriced")
		llm := op == "chat" || op == "text_completion" || op == "generate_content" || op == "embeddings"
		if llm != (cost != unpriced) || (!llm && (cost || unpriced)) {
			t.Errorf("op %q model %q: cost %v unpriced %v", op, model, cost, unpriced)
		}
	})
}

// BenchmarkSpan: telemetrygen's span as scripts/bench sends it (20 attributes, a dated model).
func BenchmarkSpan(b *testing.B) {
	c := newCoster(testConfig())
	a := pcommon.NewMap()
	for k, v := range map[string]string{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
		"gen_ai.request.model": "gpt-4o-mini", "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
		"gen_ai.request.temperature": "0.2", "gen_ai.response.finish_reasons": "stop",
		"gen_ai.response.id": "chatcmpl-8f3a2c1d9e", "llmobs.tenant": "acme", "llmobs.feature": "chat",
		"llmobs.prompt.version": "support-v12", "user.id": "u-48213", "gen_ai.conversation.id": "c-9912",
		"server.address": "api.openai.com", "llmobs.request.id": "r-5521", "network.peer.address": "1.2.3.4"} {
		a.PutStr(k, v)
	}
	a.PutInt("gen_ai.usage.input_tokens", 812)
	a.PutInt("gen_ai.usage.output_tokens", 164)
	b.ReportAllocs()
	for b.Loop() {
		a.Remove("llmobs.cost.usd")
		c.span(a)
	}
}
