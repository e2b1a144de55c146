package llmmetricsconnector

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

func flushConnector(t *testing.T, interval time.Duration, sink *consumertest.MetricsSink) connector.Traces {
	t.Helper()
	cfg := &Config{FlushInterval: interval, ResourceLabels: resource, Spans: []Definition{counter("calls", Value{From: "one"})}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c, err := NewFactory().CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(typ), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	return c
}

func waitBatches(t *testing.T, sink *consumertest.MetricsSink, n int) []pmetric.Metrics {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(sink.AllMetrics()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d metric batches after 10 s, want %d", len(sink.AllMetrics()), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return sink.AllMetrics()
}

// TestFlushSumsBatches: the batches of one interval leave as one set of points, summed; the
// next interval starts from nothing (deltas). The interval is an hour: flush() ends it.
func TestFlushSumsBatches(t *testing.T) {
	sink := &consumertest.MetricsSink{}
	c := flushConnector(t, time.Hour, sink)
	defer func() { _ = c.Shutdown(context.Background()) }()
	for i := 0; i < 3; i++ {
		span := spanSpec{attrs: map[string]any{"model": "m1"}}
		if err := c.ConsumeTraces(context.Background(), traces("svc", span, span)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(sink.AllMetrics()); n != 0 {
		t.Fatalf("%d batches sent inside the interval", n)
	}
	c.(*llmMetrics).flush()
	if err := c.ConsumeTraces(context.Background(), traces("svc", spanSpec{attrs: map[string]any{"model": "m2"}})); err != nil {
		t.Fatal(err)
	}
	c.(*llmMetrics).flush()
	all := sink.AllMetrics()
	if len(all) != 2 {
		t.Fatalf("%d batches, want 2", len(all))
	}
	if got := points(all[0])["calls"]; got["svc=svc,model=m1"] != 6 || len(got) != 1 {
		t.Errorf("first interval %v, want m1: 6", got)
	}
	if got := points(all[1])["calls"]; got["svc=svc,model=m2"] != 1 || len(got) != 1 {
		t.Errorf("second interval %v, want m2: 1 (a delta, not m1 again)", got)
	}
}

// TestTickerFlushes: with a short interval the points leave without any call but the ticker's.
func TestTickerFlushes(t *testing.T) {
	sink := &consumertest.MetricsSink{}
	c := flushConnector(t, 20*time.Millisecond, sink)
	defer func() { _ = c.Shutdown(context.Background()) }()
	span := spanSpec{attrs: map[string]any{"model": "m1"}}
	if err := c.ConsumeTraces(context.Background(), traces("svc", span, span)); err != nil {
		t.Fatal(err)
	}
	if got := points(waitBatches(t, sink, 1)[0])["calls"]; got["svc=svc,model=m1"] != 2 {
		t.Errorf("flushed %v, want m1: 2", got)
	}
}

// TestShutdownFlushes: what the interval holds is sent at shutdown.
func TestShutdownFlushes(t *testing.T) {
	sink := &consumertest.MetricsSink{}
	c := flushConnector(t, time.Hour, sink)
	if err := c.ConsumeTraces(context.Background(), traces("svc", spanSpec{attrs: map[string]any{"model": "m1"}})); err != nil {
		t.Fatal(err)
	}
	if n := len(sink.AllMetrics()); n != 0 {
		t.Fatalf("%d batches sent before the interval ended", n)
	}
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := points(waitBatches(t, sink, 1)[0])["calls"]; got["svc=svc,model=m1"] != 1 {
		t.Errorf("at shutdown %v", got)
	}
}
