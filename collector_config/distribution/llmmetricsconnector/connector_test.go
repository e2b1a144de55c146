package llmmetricsconnector

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func str(s string) *string { return &s }

var unknown = str("unknown")
var resource = []Label{{Key: "service.name", Default: unknown}}

func counter(name string, v Value, when ...Test) Definition {
	return Definition{Name: name, Kind: "counter", Unit: "{request}", Value: v, When: when,
		Labels: []Label{{Key: "model", Default: unknown}}}
}

type spanSpec struct {
	attrs  map[string]any
	err    bool
	millis int64
}

func traces(service string, specs ...spanSpec) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	if service != "" {
		rs.Resource().Attributes().PutStr("service.name", service)
	}
	ss := rs.ScopeSpans().AppendEmpty()
	for _, s := range specs {
		span := ss.Spans().AppendEmpty()
		if err := span.Attributes().FromRaw(s.attrs); err != nil {
			panic(err)
		}
		start := time.Unix(1000, 0)
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(s.millis) * time.Millisecond)))
		if s.err {
			span.Status().SetCode(ptrace.StatusCodeError)
		}
	}
	return td
}

// points: metric name -> label text -> value (sum, or a histogram's sum) over every resource.
func points(md pmetric.Metrics) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		svc, _ := rm.Resource().Attributes().Get("service.name")
		for j := 0; j < rm.ScopeMetrics().Len(); j++ {
			ms := rm.ScopeMetrics().At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				if out[m.Name()] == nil {
					out[m.Name()] = map[string]float64{}
				}
				add := func(attrs pcommon.Map, v float64) {
					parts := []string{"svc=" + svc.AsString()}
					for key, val := range attrs.All() {
						parts = append(parts, key+"="+val.AsString())
					}
					out[m.Name()][strings.Join(parts, ",")] += v
				}
				switch m.Type() {
				case pmetric.MetricTypeSum:
					for d := 0; d < m.Sum().DataPoints().Len(); d++ {
						dp := m.Sum().DataPoints().At(d)
						v := dp.DoubleValue()
						if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
							v = float64(dp.IntValue())
						}
						add(dp.Attributes(), v)
					}
				case pmetric.MetricTypeHistogram:
					for d := 0; d < m.Histogram().DataPoints().Len(); d++ {
						dp := m.Histogram().DataPoints().At(d)
						add(dp.Attributes(), dp.Sum())
					}
				}
			}
		}
	}
	return out
}

func TestConditionsFollowOTTL(t *testing.T) {
	one := Value{From: "one"}
	defs := []Definition{
		counter("present", one, Test{Op: "present", Key: "k"}),
		counter("true", one, Test{Op: "true", Key: "k"}),
		counter("eq", one, Test{Op: "eq", Key: "k", String: "chat"}),
		counter("int_gt", one, Test{Op: "int_gt", Key: "k", Number: 0}),
		counter("int_eq", one, Test{Op: "int_eq", Key: "k", Number: 0}),
		counter("double_gt", one, Test{Op: "double_gt", Key: "k", Number: 0}),
		counter("match", one, Test{Op: "match", Key: "k", Regex: `(?:^|")length(?:"|$)`}),
		counter("nonempty_list", one, Test{Op: "nonempty_list", Key: "k"}),
		counter("error", one, Test{Op: "error_status"}),
		counter("both", one, Test{Op: "present", Key: "k"}, Test{Op: "error_status"}),
	}
	cases := []struct {
		value any
		err   bool
		want  []string
	}{
		{nil, false, nil},
		{true, false, []string{"present", "true", "int_gt", "double_gt"}},
		{false, false, []string{"present", "int_eq"}},
		{"true", false, []string{"present"}}, // a string is not the boolean
		{"chat", false, []string{"present", "eq"}},
		{"3", false, []string{"present", "int_gt", "double_gt"}}, // Int() and Double() parse text
		{"0.5", false, []string{"present", "double_gt"}},         // Int() does not parse a decimal fraction
		{0.5, false, []string{"present", "int_eq", "double_gt"}}, // Int() truncates a float
		{int64(-2), true, []string{"present", "error", "both"}},
		{math.NaN(), false, []string{"present"}}, // NaN > 0 is false; int64(NaN) is no 0 (as OTTL's Int)
		{[]any{"length"}, false, []string{"present", "match", "nonempty_list"}},
		{[]any{}, false, []string{"present"}},
		{"length", false, []string{"present", "match"}},
		{"max_length", false, []string{"present"}},
		{map[string]any{"a": 1}, false, []string{"present"}},
	}
	d := compile(defs, nil, resource, "")
	for _, c := range cases {
		attrs := map[string]any{}
		if c.value != nil {
			attrs["k"] = c.value
		}
		got := points(d.Traces(traces("svc", spanSpec{attrs: attrs, err: c.err}), time.Now()))
		want := map[string]bool{}
		for _, w := range c.want {
			want[w] = true
		}
		for _, def := range defs {
			if (got[def.Name] != nil) != want[def.Name] {
				t.Errorf("value %#v err %v: %s matched %v, want %v", c.value, c.err, def.Name, got[def.Name] != nil, want[def.Name])
			}
		}
	}
}

func TestValuesLabelsAndMerging(t *testing.T) {
	defs := []Definition{
		counter("tokens", Value{From: "int", Key: "tokens"}, Test{Op: "present", Key: "tokens"}),
		counter("cost", Value{From: "double", Key: "cost"}, Test{Op: "present", Key: "cost"}),
		{Name: "ratio", Kind: "histogram", Value: Value{From: "double", Key: "in", Per: "window"}, Buckets: []float64{0.5, 1},
			When: []Test{{Op: "present", Key: "in"}, {Op: "double_gt", Key: "window", Number: 0}}},
		{Name: "latency", Kind: "histogram", Value: Value{From: "duration"}, Buckets: []float64{0.1, 1}},
		{Name: "score", Kind: "histogram", Value: Value{From: "first", Key: "scores"}, Buckets: []float64{0.5, 1},
			When: []Test{{Op: "nonempty_list", Key: "scores"}}},
		// a label without default: a record lacking it adds nothing
		{Name: "by_tool", Kind: "counter", Value: Value{From: "one"}, Labels: []Label{{Key: "tool"}}},
		// two definitions of one name: one metric, the default telling them apart
		{Name: "overflow", Kind: "counter", Value: Value{From: "one"}, When: []Test{{Op: "true", Key: "o.tenant"}},
			Labels: []Label{{Key: "label", Default: str("tenant")}}},
		{Name: "overflow", Kind: "counter", Value: Value{From: "one"}, When: []Test{{Op: "true", Key: "o.feature"}},
			Labels: []Label{{Key: "label", Default: str("feature")}}},
	}
	td := traces("svc",
		spanSpec{attrs: map[string]any{"tokens": 10, "model": "a", "cost": 0.25, "in": 300, "window": 1000, "o.tenant": true}, millis: 50},
		spanSpec{attrs: map[string]any{"tokens": "5", "model": "a", "cost": "0.5", "tool": "search", "o.tenant": true, "o.feature": true}, millis: 2000},
		spanSpec{attrs: map[string]any{"tokens": "x", "model": int64(7), "in": 1, "window": 0, "scores": []any{0.75, 0.1}}, millis: 500},
		spanSpec{attrs: map[string]any{"tokens": 1, "model": "7", "scores": []any{"bad"}}, millis: 500},
	)
	// a second resource without service.name: the default
	traces("", spanSpec{attrs: map[string]any{"tokens": 2}}).ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
	out := compile(defs, nil, resource, "gw-1").Traces(td, time.Now())
	got := points(out)
	want := map[string]map[string]float64{
		"tokens":   {"svc=svc,model=a": 15, "svc=svc,model=7": 1, "svc=unknown,model=unknown": 2}, // "x" is no integer
		"cost":     {"svc=svc,model=a": 0.75},
		"ratio":    {"svc=svc": 0.3},
		"latency":  {"svc=svc": 3.05, "svc=unknown": 0},
		"score":    {"svc=svc": 0.75},
		"by_tool":  {"svc=svc,tool=search": 1},
		"overflow": {"svc=svc,label=tenant": 2, "svc=svc,label=feature": 1},
	}
	for name, series := range want {
		for labels, v := range series {
			if math.Abs(got[name][labels]-v) > 1e-9 {
				t.Errorf("%s{%s} = %v, want %v (all: %v)", name, labels, got[name][labels], v, got[name])
			}
		}
		if len(got[name]) != len(series) {
			t.Errorf("%s: series %v, want %v", name, got[name], series)
		}
	}
	// An int label value 7 and the string "7" are two series, as two attribute values are.
	if len(got["tokens"]) != 3 {
		t.Errorf("tokens series: %v", got["tokens"])
	}
	rm := out.ResourceMetrics().At(0)
	if id, _ := rm.Resource().Attributes().Get(InstanceKey); id.Str() != "gw-1" {
		t.Errorf("instance id %v", id.AsString())
	}
	if rm.ScopeMetrics().At(0).Scope().Name() != ScopeName {
		t.Error("scope name")
	}
	for i := 0; i < rm.ScopeMetrics().At(0).Metrics().Len(); i++ {
		m := rm.ScopeMetrics().At(0).Metrics().At(i)
		switch m.Name() {
		case "tokens":
			if m.Sum().DataPoints().At(0).ValueType() != pmetric.NumberDataPointValueTypeInt || !m.Sum().IsMonotonic() ||
				m.Sum().AggregationTemporality() != pmetric.AggregationTemporalityDelta {
				t.Error("tokens: a monotonic delta int sum")
			}
		case "cost":
			if m.Sum().DataPoints().At(0).ValueType() != pmetric.NumberDataPointValueTypeDouble {
				t.Error("cost: a double sum")
			}
		case "latency":
			dp := m.Histogram().DataPoints().At(0)
			// 0.05 -> (-inf, 0.1], 0.5 and 0.5 -> (0.1, 1], 2 -> (1, +inf)
			if got := dp.BucketCounts().AsRaw(); len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 1 || dp.Count() != 4 {
				t.Errorf("latency buckets %v count %d", got, dp.Count())
			}
		}
	}
}

func TestLogsAndTheConnector(t *testing.T) {
	cfg := &Config{ResourceLabels: resource, Logs: []Definition{{Name: "feedback", Kind: "counter", Value: Value{From: "one"},
		When: []Test{{Op: "present", Key: "feedback"}}, Labels: []Label{{Key: "feedback"}}}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	sink := &consumertest.MetricsSink{}
	c, err := NewFactory().CreateLogsToMetrics(context.Background(), connectortest.NewNopSettings(typ), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	ld := plog.NewLogs()
	records := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	records.AppendEmpty().Attributes().PutStr("feedback", "up")
	records.AppendEmpty().Attributes().PutStr("feedback", "up")
	records.AppendEmpty().Attributes().PutStr("other", "x")
	if err := c.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	// nothing matched: nothing sent
	empty := plog.NewLogs()
	empty.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	if err := c.ConsumeLogs(context.Background(), empty); err != nil {
		t.Fatal(err)
	}
	if len(sink.AllMetrics()) != 1 {
		t.Fatalf("batches %d, want 1", len(sink.AllMetrics()))
	}
	if got := points(sink.AllMetrics()[0]); got["feedback"]["svc=unknown,feedback=up"] != 2 || len(got["feedback"]) != 1 {
		t.Errorf("feedback %v", got)
	}
	if _, err := NewFactory().CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(typ), cfg, sink); err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	good := counter("ok", Value{From: "one"})
	for want, def := range map[string]Definition{
		"name is empty":            {Kind: "counter", Value: Value{From: "one"}},
		"is not counter":           {Name: "x", Kind: "gauge", Value: Value{From: "one"}},
		"needs buckets":            {Name: "x", Kind: "histogram", Value: Value{From: "duration"}, Buckets: []float64{2, 1}},
		"needs a key":              {Name: "x", Kind: "counter", Value: Value{From: "int"}},
		"op \"nil\" is unknown":    {Name: "x", Kind: "counter", Value: Value{From: "one"}, When: []Test{{Op: "nil", Key: "k"}}},
		"missing closing":          {Name: "x", Kind: "counter", Value: Value{From: "one"}, When: []Test{{Op: "match", Key: "k", Regex: "("}}},
		"op present needs a key":   {Name: "x", Kind: "counter", Value: Value{From: "one"}, When: []Test{{Op: "present"}}},
		"per is only for a double": {Name: "x", Kind: "counter", Value: Value{From: "int", Key: "a", Per: "b"}},
		"a counter's value cannot": {Name: "x", Kind: "counter", Value: Value{From: "duration"}},
	} {
		err := (&Config{Spans: []Definition{good, def}}).Validate()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
	logs := (&Config{Logs: []Definition{{Name: "x", Kind: "histogram", Value: Value{From: "duration"}, Buckets: []float64{1}}}}).Validate()
	if logs == nil || !strings.Contains(logs.Error(), "only for spans") {
		t.Errorf("duration on logs: %v", logs)
	}
	mixed := (&Config{Spans: []Definition{good, {Name: "ok", Kind: "histogram", Value: Value{From: "duration"}, Buckets: []float64{1}}}}).Validate()
	if mixed == nil || !strings.Contains(mixed.Error(), "differs") {
		t.Errorf("one name, two kinds: %v", mixed)
	}
	if err := (&Config{ResourceLabels: []Label{{}}}).Validate(); err == nil || !strings.Contains(err.Error(), "resource_labels") {
		t.Errorf("a resource label without key: %v", err)
	}
	if err := (&Config{ResourceLabels: resource, Spans: []Definition{good}}).Validate(); err != nil {
		t.Error(err)
	}
}
