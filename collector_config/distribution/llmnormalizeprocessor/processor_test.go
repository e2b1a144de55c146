package llmnormalizeprocessor

import (
	"context"
	"math"
	"reflect"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
)

func testConfig() *Config {
	return &Config{
		Renames: []Rename{
			{From: "llm.request.model", To: "gen_ai.request.model"},
			{From: "gen_ai.system", To: "gen_ai.provider.name"}, // listed first: wins over llm.system
			{From: "llm.system", To: "gen_ai.provider.name"},
			{From: "old.a", To: "old.b"}, // a chain: old.b is itself an alias, listed after
			{From: "old.b", To: "new.c"},
			{From: "deployment.environment", To: "deployment.environment.name"},
			{From: "llm.finish_reason", To: "gen_ai.response.finish_reasons"},
		},
		ResourceRenames: []Rename{{From: "deployment.environment", To: "deployment.environment.name"}},
		Indexed: []Indexed{
			{Pattern: `^gen_ai\.prompt\.(\d+)\.content$`, Replacement: "gen_ai.input.messages.${1}.content"},
			{Pattern: `^gen_ai\.prompt\.(\d+)\.tool_calls\.(\d+)\.name$`, Replacement: "gen_ai.input.messages.${1}.tool_call_name.${2}"},
		},
		Values: []ValueMap{{Key: "gen_ai.operation.name", Values: []Pair{{From: "llm", To: "chat"}, {From: "agent", To: "invoke_agent"}}}},
		Lists:  []string{"gen_ai.response.finish_reasons"},
		Numeric: Numeric{Spans: []string{"gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"},
			Logs: []string{"gen_ai.evaluation.score.value"}, Pattern: `^[0-9]{1,9}(?:\.[0-9]+)?$`, Max: 1e9,
			Attribute: "llmobs.invalid"},
	}
}

func run(t *testing.T, td ptrace.Traces) ptrace.Traces {
	t.Helper()
	sink := new(consumertest.TracesSink)
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(typ), testConfig(), sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	return sink.AllTraces()[0]
}

func oneSpan(fill func(pcommon.Map)) (ptrace.Traces, ptrace.Span) {
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	fill(span.Attributes())
	return td, span
}

func spanAttrs(t *testing.T, fill func(pcommon.Map)) map[string]any {
	t.Helper()
	td, _ := oneSpan(fill)
	out := run(t, td)
	return out.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().AsRaw()
}

func equal(t *testing.T, got, want map[string]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Fatalf("missing %q: got %v, want %v", k, got, want)
		}
		if gf, ok := g.(float64); ok && math.IsNaN(gf) {
			t.Fatalf("%q is NaN", k)
		}
		if gm, ok := g.(map[string]any); ok {
			equal(t, gm, w.(map[string]any))
			continue
		}
		if gs, ok := g.([]any); ok {
			if !reflect.DeepEqual(gs, w) {
				t.Fatalf("%q: got %#v, want %#v (all: %v)", k, g, w, got)
			}
			continue
		}
		if g != w {
			t.Fatalf("%q: got %#v, want %#v (all: %v)", k, g, w, got)
		}
	}
}

func TestRenames(t *testing.T) {
	cases := []struct {
		name string
		fill func(pcommon.Map)
		want map[string]any
	}{
		{"alias renamed", func(m pcommon.Map) { m.PutStr("llm.request.model", "gpt-4o") },
			map[string]any{"gen_ai.request.model": "gpt-4o"}},
		{"canonical wins, alias dropped", func(m pcommon.Map) {
			m.PutStr("llm.request.model", "old")
			m.PutStr("gen_ai.request.model", "new")
		}, map[string]any{"gen_ai.request.model": "new"}},
		{"first listed alias wins", func(m pcommon.Map) {
			m.PutStr("llm.system", "second")
			m.PutStr("gen_ai.system", "first")
		}, map[string]any{"gen_ai.provider.name": "first"}},
		{"a later rename reads an earlier one's result", func(m pcommon.Map) { m.PutStr("old.a", "x") },
			map[string]any{"new.c": "x"}},
		{"an empty canonical is overwritten", func(m pcommon.Map) {
			m.PutEmpty("gen_ai.request.model")
			m.PutStr("llm.request.model", "gpt-4o")
		}, map[string]any{"gen_ai.request.model": "gpt-4o"}},
		{"a map value is copied whole", func(m pcommon.Map) {
			m.PutEmptyMap("llm.request.model").PutStr("inner", "v")
		}, map[string]any{"gen_ai.request.model": map[string]any{"inner": "v"}}},
		{"no alias: untouched", func(m pcommon.Map) { m.PutStr("user.id", "u-1") },
			map[string]any{"user.id": "u-1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { equal(t, spanAttrs(t, c.fill), c.want) })
	}
}

func TestIndexedKeys(t *testing.T) {
	got := spanAttrs(t, func(m pcommon.Map) {
		m.PutStr("gen_ai.prompt.0.content", "hello")
		m.PutStr("gen_ai.prompt.12.tool_calls.3.name", "search")
		m.PutStr("gen_ai.prompt.x.content", "no index")
		m.PutStr("server.port.1", "digit, no pattern")
	})
	equal(t, got, map[string]any{"gen_ai.input.messages.0.content": "hello",
		"gen_ai.input.messages.12.tool_call_name.3": "search", "gen_ai.prompt.x.content": "no index",
		"server.port.1": "digit, no pattern"})
	// A renamed key that collides with one already there: the later one in the map wins.
	got = spanAttrs(t, func(m pcommon.Map) {
		m.PutStr("gen_ai.input.messages.0.content", "first")
		m.PutStr("gen_ai.prompt.0.content", "second")
	})
	equal(t, got, map[string]any{"gen_ai.input.messages.0.content": "second"})
}

func TestDotDigit(t *testing.T) {
	for key, want := range map[string]bool{"a.0": true, "a.b.1.c": true, "a.b": false, "a0": false, "a.": false, ".5": true, "": false} {
		if got := dotDigit(key); got != want {
			t.Errorf("dotDigit(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestValueMaps(t *testing.T) {
	for in, want := range map[string]any{"LLM": "chat", "llm": "chat", "Agent": "invoke_agent", "chat": "chat", "llmx": "llmx"} {
		got := spanAttrs(t, func(m pcommon.Map) { m.PutStr("gen_ai.operation.name", in) })
		equal(t, got, map[string]any{"gen_ai.operation.name": want})
	}
	got := spanAttrs(t, func(m pcommon.Map) { m.PutInt("gen_ai.operation.name", 3) })
	equal(t, got, map[string]any{"gen_ai.operation.name": int64(3)})
}

func TestNumericGuard(t *testing.T) {
	key := "gen_ai.usage.input_tokens"
	good := map[string]func(pcommon.Map){
		"int":            func(m pcommon.Map) { m.PutInt(key, 812) },
		"zero":           func(m pcommon.Map) { m.PutInt(key, 0) },
		"double":         func(m pcommon.Map) { m.PutDouble(key, 12.5) },
		"numeric text":   func(m pcommon.Map) { m.PutStr(key, "812") },
		"decimal text":   func(m pcommon.Map) { m.PutStr(key, "812.25") },
		"just under 1e9": func(m pcommon.Map) { m.PutInt(key, 999999999) },
	}
	for name, fill := range good {
		t.Run("good "+name, func(t *testing.T) {
			got := spanAttrs(t, fill)
			if _, ok := got[key]; !ok || got["llmobs.invalid"] != nil {
				t.Fatalf("a good value was dropped: %v", got)
			}
		})
	}
	bad := map[string]func(pcommon.Map){
		"negative":      func(m pcommon.Map) { m.PutInt(key, -500) },
		"1e9":           func(m pcommon.Map) { m.PutInt(key, 1000000000) },
		"NaN":           func(m pcommon.Map) { m.PutDouble(key, math.NaN()) },
		"+Inf":          func(m pcommon.Map) { m.PutDouble(key, math.Inf(1)) },
		"negative text": func(m pcommon.Map) { m.PutStr(key, "-5") },
		"word":          func(m pcommon.Map) { m.PutStr(key, "lots") },
		"exponent text": func(m pcommon.Map) { m.PutStr(key, "1e3") },
		"bool":          func(m pcommon.Map) { m.PutBool(key, true) },
		"map":           func(m pcommon.Map) { m.PutEmptyMap(key).PutInt("n", 1) },
		"list":          func(m pcommon.Map) { m.PutEmptySlice(key).AppendEmpty().SetInt(1) },
		"bytes":         func(m pcommon.Map) { m.PutEmptyBytes(key).FromRaw([]byte{1}) },
	}
	for name, fill := range bad {
		t.Run("bad "+name, func(t *testing.T) {
			equal(t, spanAttrs(t, fill), map[string]any{"llmobs.invalid": key})
		})
	}
	// Two bad keys: the last in order is named, both are dropped.
	got := spanAttrs(t, func(m pcommon.Map) {
		m.PutInt("gen_ai.usage.output_tokens", -1)
		m.PutInt(key, -1)
	})
	equal(t, got, map[string]any{"llmobs.invalid": "gen_ai.usage.output_tokens"})
	// An alias is renamed before the guard reads its canonical key: no guard on span events.
	td, span := oneSpan(func(m pcommon.Map) {})
	ev := span.Events().AppendEmpty()
	ev.Attributes().PutInt(key, -1)
	ev.Attributes().PutStr("llm.request.model", "m")
	out := run(t, td).ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Events().At(0).Attributes().AsRaw()
	equal(t, out, map[string]any{key: int64(-1), "gen_ai.request.model": "m"})
}

func TestListKeys(t *testing.T) {
	reasons := "gen_ai.response.finish_reasons"
	cases := []struct {
		name string
		fill func(pcommon.Map)
		want any
	}{
		{"an alias's single string becomes a list", func(m pcommon.Map) { m.PutStr("llm.finish_reason", "stop") }, []any{"stop"}},
		{"a canonical single string too", func(m pcommon.Map) { m.PutStr(reasons, "length") }, []any{"length"}},
		{"a list stays as it is", func(m pcommon.Map) {
			s := m.PutEmptySlice(reasons)
			s.AppendEmpty().SetStr("stop")
			s.AppendEmpty().SetStr("length")
		}, []any{"stop", "length"}},
		{"a number is left alone", func(m pcommon.Map) { m.PutInt(reasons, 2) }, int64(2)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { equal(t, spanAttrs(t, c.fill), map[string]any{reasons: c.want}) })
	}
	td, span := oneSpan(func(m pcommon.Map) { m.PutStr("user.id", "u-1") })
	span.Events().AppendEmpty().Attributes().PutStr(reasons, "stop")
	out := run(t, td).ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Events().At(0).Attributes().AsRaw()
	equal(t, out, map[string]any{reasons: []any{"stop"}})
}

func TestResourcesTakeOnlyTheirRenames(t *testing.T) {
	td, _ := oneSpan(func(m pcommon.Map) { m.PutStr("deployment.environment", "prod") })
	res := td.ResourceSpans().At(0).Resource().Attributes()
	res.PutStr("deployment.environment", "staging")
	res.PutStr("llm.request.model", "not a resource key")
	out := run(t, td)
	equal(t, out.ResourceSpans().At(0).Resource().Attributes().AsRaw(),
		map[string]any{"deployment.environment.name": "staging", "llm.request.model": "not a resource key"})
	equal(t, out.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().AsRaw(),
		map[string]any{"deployment.environment.name": "prod"})
}

func TestLogs(t *testing.T) {
	sink := new(consumertest.LogsSink)
	p, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(typ), testConfig(), sink)
	if err != nil {
		t.Fatal(err)
	}
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Attributes().PutStr("llm.request.model", "m")
	lr.Attributes().PutStr("gen_ai.operation.name", "LLM")
	lr.Attributes().PutDouble("gen_ai.evaluation.score.value", math.NaN())
	lr.Attributes().PutInt("gen_ai.usage.input_tokens", -1) // a span key: not guarded on logs
	lr.Attributes().PutStr("gen_ai.response.finish_reasons", "stop")
	if err := p.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	got := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().AsRaw()
	equal(t, got, map[string]any{"gen_ai.request.model": "m", "gen_ai.operation.name": "chat",
		"llmobs.invalid": "gen_ai.evaluation.score.value", "gen_ai.usage.input_tokens": int64(-1),
		"gen_ai.response.finish_reasons": []any{"stop"}})
}

func TestEveryDataPointType(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	p, err := NewFactory().CreateMetrics(context.Background(), processortest.NewNopSettings(typ), testConfig(), sink)
	if err != nil {
		t.Fatal(err)
	}
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	points := []pcommon.Map{
		ms.AppendEmpty().SetEmptyGauge().DataPoints().AppendEmpty().Attributes(),
		ms.AppendEmpty().SetEmptySum().DataPoints().AppendEmpty().Attributes(),
		ms.AppendEmpty().SetEmptyHistogram().DataPoints().AppendEmpty().Attributes(),
		ms.AppendEmpty().SetEmptyExponentialHistogram().DataPoints().AppendEmpty().Attributes(),
		ms.AppendEmpty().SetEmptySummary().DataPoints().AppendEmpty().Attributes(),
	}
	for _, a := range points {
		a.PutStr("gen_ai.system", "openai")
		a.PutInt("gen_ai.usage.input_tokens", -1)          // no guard on data points
		a.PutStr("gen_ai.response.finish_reasons", "stop") // a label value: stays a string
	}
	if err := p.ConsumeMetrics(context.Background(), md); err != nil {
		t.Fatal(err)
	}
	out := sink.AllMetrics()[0].ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	attrs := []pcommon.Map{out.At(0).Gauge().DataPoints().At(0).Attributes(), out.At(1).Sum().DataPoints().At(0).Attributes(),
		out.At(2).Histogram().DataPoints().At(0).Attributes(), out.At(3).ExponentialHistogram().DataPoints().At(0).Attributes(),
		out.At(4).Summary().DataPoints().At(0).Attributes()}
	for _, a := range attrs {
		equal(t, a.AsRaw(), map[string]any{"gen_ai.provider.name": "openai", "gen_ai.usage.input_tokens": int64(-1),
			"gen_ai.response.finish_reasons": "stop"})
	}
}

func TestValidate(t *testing.T) {
	for name, mutate := range map[string]func(*Config){
		"bad indexed pattern":       func(c *Config) { c.Indexed[0].Pattern = "(" },
		"rename without to":         func(c *Config) { c.Renames[0].To = "" },
		"value map without key":     func(c *Config) { c.Values[0].Key = "" },
		"numeric without attribute": func(c *Config) { c.Numeric.Attribute = "" },
		"numeric bad pattern":       func(c *Config) { c.Numeric.Pattern = "[" },
	} {
		c := testConfig()
		mutate(c)
		if c.Validate() == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := testConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}
