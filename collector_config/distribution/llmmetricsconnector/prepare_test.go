package llmmetricsconnector

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// What the OTTL transform/bound_traces does, in one config: the metric path's labels.
var spanPrepare = &Prepare{
	Flags: []Flag{{Key: "llm", When: []Test{{Op: "match", Key: "op", Regex: "^(?:chat)$"}}},
		{Key: "root", When: []Test{{Op: "root"}}}},
	Defaults: []Default{{Key: "outcome", String: "error", When: []Test{{Op: "true", Key: "root"}, {Op: "error_status"}}},
		{Key: "outcome", String: "unknown", When: []Test{{Op: "true", Key: "root"}}}},
	Windows: &Windows{Key: "window", Models: []string{"resp", "req"}, When: []Test{{Op: "true", Key: "llm"}},
		Exact:    []Window{{Model: "m", Tokens: 100}, {Model: "m", Tokens: 200}, {Model: "m-2025", Tokens: 300}},
		Patterns: []Window{{Regex: "^(?:m-20\\d\\d)$", Tokens: 400}, {Regex: "^(?:m-.*)$", Tokens: 500}, {Regex: "^(?:7)$", Tokens: 7}}},
	Hashes: []Hash{{Key: "bucket", From: "user", Chars: 3}},
	Bounds: []Bound{{Label: "tenant_b", Source: "tenant", Allow: "^(?:acme)$", Marker: "o.tenant"},
		{Label: "outcome", Source: "outcome", Allow: "^(?:ok|error|unknown)$", Marker: "o.outcome"},
		{Label: "env", Source: "env", Resource: true, Allow: "^(?:prod)$", Marker: "o.env"}},
}

var prepLabels = []string{"llm", "root", "outcome", "window", "bucket", "tenant_b", "env", "o.tenant", "o.outcome", "o.env"}

// seen: one counter per record, labelled with every prepared key (absent: "-").
func seen(t *testing.T, env string, spans ...map[string]any) []string {
	t.Helper()
	dash := "-"
	def := Definition{Name: "seen", Kind: "counter", Value: Value{From: "one"},
		When: []Test{{Op: "present", Key: "id"}}, Labels: []Label{{Key: "id"}}}
	for _, l := range prepLabels {
		def.Labels = append(def.Labels, Label{Key: l, Default: &dash})
	}
	cfg := &Config{Spans: []Definition{def}}
	cfg.Prepare.Spans = spanPrepare
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	if env != "" {
		rs.Resource().Attributes().PutStr("env", env)
	}
	ss := rs.ScopeSpans().AppendEmpty()
	for _, attrs := range spans {
		span := ss.Spans().AppendEmpty()
		if attrs["child"] == true {
			span.SetParentSpanID(pcommon.SpanID{1})
		}
		if attrs["error"] == true {
			span.Status().SetCode(ptrace.StatusCodeError)
		}
		if err := span.Attributes().FromRaw(attrs); err != nil {
			t.Fatal(err)
		}
	}
	before := ptrace.NewTraces()
	td.CopyTo(before)
	out := compile(cfg.Spans, cfg.Prepare.Spans, nil, "").Traces(td, time.Now())
	if !sameTraces(before, td) {
		t.Error("the records changed: the metric path must only read them")
	}
	var rows []string
	dps := out.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints()
	for i := 0; i < dps.Len(); i++ {
		attrs := dps.At(i).Attributes()
		id, _ := attrs.Get("id")
		row := []string{id.AsString()}
		for _, l := range prepLabels {
			v, _ := attrs.Get(l)
			row = append(row, l+"="+v.AsString())
		}
		rows = append(rows, strings.Join(row, " "))
	}
	return rows
}

func sameTraces(a, b ptrace.Traces) bool {
	m := ptrace.ProtoMarshaler{}
	x, _ := m.MarshalTraces(a)
	y, _ := m.MarshalTraces(b)
	return string(x) == string(y)
}

func TestPrepareFollowsTheBoundTransform(t *testing.T) {
	sum := sha256.Sum256([]byte("42"))
	bucket := hex.EncodeToString(sum[:])[:3]
	rows := seen(t, "qa",
		// a root LLM call: flags, the outcome default, the exact window (the last entry of a name)
		map[string]any{"id": "a", "op": "chat", "req": "m", "tenant": "acme"},
		// a failed root: outcome error; the response model wins; an int user id hashed as text
		map[string]any{"id": "b", "op": "chat", "req": "m", "resp": "m-2025", "error": true, "user": 42},
		// a child: no root, no default; a pattern window (the first that matches); tenant folded
		map[string]any{"id": "c", "child": true, "op": "chat", "req": "m-2030", "tenant": "initech"},
		// not an LLM call: no window; an outcome outside its values folded; a label set directly is bounded
		map[string]any{"id": "d", "child": true, "op": "search", "req": "m", "outcome": "weird", "tenant_b": "sneaky"},
		// an own window stays; a non-string model: its text matches a pattern; a tenant that is "other" stays
		map[string]any{"id": "e", "child": true, "op": "chat", "req": "m", "window": 5, "tenant": "other"},
		map[string]any{"id": "f", "child": true, "op": "chat", "req": int64(7), "tenant": int64(3)},
	)
	want := []string{
		"a llm=true root=true outcome=unknown window=200 bucket=- tenant_b=acme env=other o.tenant=- o.outcome=- o.env=true",
		"b llm=true root=true outcome=error window=300 bucket=" + bucket + " tenant_b=- env=other o.tenant=- o.outcome=- o.env=true",
		"c llm=true root=- outcome=- window=400 bucket=- tenant_b=other env=other o.tenant=true o.outcome=- o.env=true",
		"d llm=- root=- outcome=other window=- bucket=- tenant_b=other env=other o.tenant=true o.outcome=true o.env=true",
		"e llm=true root=- outcome=- window=5 bucket=- tenant_b=other env=other o.tenant=- o.outcome=- o.env=true",
		"f llm=true root=- outcome=- window=7 bucket=- tenant_b=other env=other o.tenant=true o.outcome=- o.env=true",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	// an allowed resource value is kept, unmarked
	if rows := seen(t, "prod", map[string]any{"id": "g"}); !strings.Contains(rows[0], " env=prod ") || !strings.Contains(rows[0], "o.env=-") {
		t.Errorf("resource in bound: %v", rows)
	}
	// no resource value: no label, no marker
	if rows := seen(t, "", map[string]any{"id": "h"}); !strings.Contains(rows[0], " env=- ") || !strings.Contains(rows[0], "o.env=-") {
		t.Errorf("no resource value: %v", rows)
	}
}

func TestValidatePrepare(t *testing.T) {
	for want, p := range map[string]*Prepare{
		"flags[0]: key is empty":      {Flags: []Flag{{}}},
		"flags[0]: when[0]: op \"x\"": {Flags: []Flag{{Key: "a", When: []Test{{Op: "x"}}}}},
		"windows: key and models":     {Windows: &Windows{Key: "w"}},
		"windows.patterns[0]":         {Windows: &Windows{Key: "w", Models: []string{"m"}, Patterns: []Window{{Regex: "("}}}},
		"hashes[0]":                   {Hashes: []Hash{{Key: "b", From: "u", Chars: 65}}},
		"bounds[0]: label, source":    {Bounds: []Bound{{Label: "l", Allow: "x"}}},
		"bounds[0]: error parsing":    {Bounds: []Bound{{Label: "l", Source: "s", Marker: "m", Allow: "("}}},
		"defaults[0]: key is empty":   {Defaults: []Default{{String: "x"}}},
	} {
		cfg := &Config{}
		cfg.Prepare.Spans = p
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "prepare.spans: "+want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
	cfg := &Config{}
	cfg.Prepare.Logs = &Prepare{Flags: []Flag{{Key: "r", When: []Test{{Op: "root"}}}}}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "root is only for spans") {
		t.Errorf("root on logs: %v", err)
	}
	cfg = &Config{}
	cfg.Prepare.Spans = spanPrepare
	if err := cfg.Validate(); err != nil {
		t.Error(err)
	}
}

// Batches arrive concurrently: the deriver and its prepared steps are shared, read-only.
func TestConcurrentBatches(t *testing.T) {
	def := Definition{Name: "seen", Kind: "counter", Value: Value{From: "one"}, Labels: []Label{{Key: "tenant_b"}, {Key: "window"}}}
	d := compile([]Definition{def}, spanPrepare, resource, "")
	errs := make(chan string, 4)
	for w := 0; w < 4; w++ {
		go func() {
			for i := 0; i < 200; i++ {
				td := traces("svc", spanSpec{attrs: map[string]any{"op": "chat", "req": "m-2030", "tenant": "initech"}})
				got := points(d.Traces(td, time.Now()))["seen"]
				if len(got) != 1 || got["svc=svc,tenant_b=other,window=400"] != 1 {
					errs <- fmt.Sprint(got)
					return
				}
			}
			errs <- ""
		}()
	}
	for w := 0; w < 4; w++ {
		if e := <-errs; e != "" {
			t.Fatal(e)
		}
	}
}
