package llmredactprocessor

import (
	"context"
	"fmt"
	"math/rand"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
)

func cacheConfig() *Config {
	cfg := testConfig()
	cfg.Detectors = append(cfg.Detectors, checkedConfig().Detectors...)
	return cfg
}

// cachePool: strings a detector rewrites (each alternative of the config's detectors), strings
// one only nearly matches, invalid UTF-8, and clean ones.
var cachePool = []string{
	key, "token " + key, "Bearer abcdefgh12345678", "bearer  xyz", "mail ann@example.com now",
	"ann@example", "secret-42", "secret-42 ", "4111 1111 1111 1111", "4111 1111 1111 1112",
	"ip 10.1.2.3 seen", "version 1.2.3.4.5", "gen_ai.request.model", "gpt-4o-mini", "chat",
	"x-api-key", "api-key", "bad \xff byte", "sk-short", "plain words only", "",
}

func randomBatch(rng *rand.Rand, spans int, unique *int) ptrace.Traces {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	for i := 0; i < spans; i++ {
		span := ss.Spans().AppendEmpty()
		span.SetName(cachePool[rng.Intn(len(cachePool))])
		a := span.Attributes()
		for j := 0; j < 6; j++ {
			k := cachePool[rng.Intn(len(cachePool))]
			if rng.Intn(3) == 0 {
				k = fmt.Sprintf("attr.%d", j)
			}
			a.PutStr(k, cachePool[rng.Intn(len(cachePool))])
		}
		*unique++ // a value never seen before: the cache fills and is emptied on the way
		a.PutStr("request.id", fmt.Sprintf("r-%d %s", *unique, cachePool[rng.Intn(len(cachePool))]))
		if rng.Intn(4) == 0 {
			ev := span.Events().AppendEmpty()
			ev.SetName(cachePool[rng.Intn(len(cachePool))])
			ev.Attributes().PutStr("message", cachePool[rng.Intn(len(cachePool))])
		}
	}
	return td
}

// TestMasksKeptAcrossBatchesAsFresh: one processor that keeps its strings' gate results from
// batch to batch (past its cache's capacity) writes what a redactor made afresh for each
// batch writes.
func TestMasksKeptAcrossBatchesAsFresh(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(typ), cacheConfig(), sink)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(7))
	unique := 0
	marshal := ptrace.JSONMarshaler{}
	for n := 0; unique <= 2*cacheMax+100; n++ {
		td := randomBatch(rng, 40, &unique)
		want := ptrace.NewTraces()
		td.CopyTo(want)
		newRedactor(cacheConfig()).traces(want)
		if err := p.ConsumeTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
		gotSpans := sink.AllTraces()[n].ResourceSpans().At(0).ScopeSpans().At(0).Spans()
		wantSpans := want.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
		for i := 0; i < wantSpans.Len(); i++ {
			g, w := ptrace.NewTraces(), ptrace.NewTraces()
			gotSpans.At(i).CopyTo(g.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty())
			wantSpans.At(i).CopyTo(w.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty())
			gj, _ := marshal.MarshalTraces(g)
			wj, _ := marshal.MarshalTraces(w)
			if string(gj) != string(wj) {
				t.Fatalf("batch %d span %d differs from a fresh redactor's:\n got %q\nwant %q", n, i, gj, wj)
			}
		}
	}
}

// TestCachedStringIsRedactedAgain: a value redacted in one batch is redacted in the next,
// when its gate result comes from the cache, and a clean one stays clean.
func TestCachedStringIsRedactedAgain(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(typ), cacheConfig(), sink)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		td := ptrace.NewTraces()
		a := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().Attributes()
		a.PutStr("contact", "mail ann@example.com now")
		a.PutStr("model", "gpt-4o-mini")
		if err := p.ConsumeTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
		got := sink.AllTraces()[i].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
		if v := mustStr(t, got, "contact"); v != "mail [REDACTED:email] now" {
			t.Fatalf("batch %d: contact = %q", i, v)
		}
		if v := mustStr(t, got, "model"); v != "gpt-4o-mini" {
			t.Fatalf("batch %d: model = %q", i, v)
		}
		if _, ok := got.Get("llmobs.redacted"); !ok {
			t.Fatalf("batch %d: not flagged", i)
		}
	}
}
