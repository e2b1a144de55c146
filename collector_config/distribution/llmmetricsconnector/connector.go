// Package llmmetricsconnector derives the gateway's LLM metrics (telemetry/catalog.py) from spans
// and log records: counters and explicit-bucket histograms, delta temporality, one data point
// per distinct label set in each batch, as the contrib signal_to_metrics connector does (with
// flush_interval, in each interval: the batches are summed and sent at its end). It is
// the gateway's only metrics engine: its conditions and values are a small fixed vocabulary
// (config.go, rendered by collector_config/metrics.py) evaluated on one index of the record's
// attributes, instead of OTTL expressions run per definition.
package llmmetricsconnector // import "github.com/llm-observability-stack/otelcol-llmobs/llmmetricsconnector"

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"
)

var typ = component.MustNewType("llmmetrics")

// ScopeName is the instrumentation scope of every metric made.
const ScopeName = "github.com/llm-observability-stack/otelcol-llmobs/llmmetricsconnector"

// InstanceKey: the collector's service.instance.id on every metric's resource, so that the
// replicas of a gateway write distinct series.
const InstanceKey = "llmmetrics.service.instance.id"

// NewFactory returns the connector's factory (traces to metrics, logs to metrics).
func NewFactory() connector.Factory {
	return connector.NewFactory(typ, func() component.Config { return &Config{} },
		connector.WithTracesToMetrics(createTraces, component.StabilityLevelDevelopment),
		connector.WithLogsToMetrics(createLogs, component.StabilityLevelDevelopment))
}

func instanceID(set connector.Settings) string {
	if v, ok := set.Resource.Attributes().Get("service.instance.id"); ok {
		return v.Str()
	}
	return ""
}

func createTraces(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Traces, error) {
	c := cfg.(*Config)
	return newLLMMetrics(compile(c.Spans, c.Prepare.Spans, c.ResourceLabels, instanceID(set)), c, set, next), nil
}

func createLogs(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Logs, error) {
	c := cfg.(*Config)
	return newLLMMetrics(compile(c.Logs, c.Prepare.Logs, c.ResourceLabels, instanceID(set)), c, set, next), nil
}

func newLLMMetrics(d *deriver, c *Config, set connector.Settings, next consumer.Metrics) *llmMetrics {
	return &llmMetrics{deriver: d, next: next, interval: c.FlushInterval, logger: set.Logger}
}

type llmMetrics struct {
	*deriver
	next     consumer.Metrics
	interval time.Duration
	logger   *zap.Logger

	mu      sync.Mutex
	pending *batch // this interval's points (interval > 0)
	stop    chan struct{}
	done    sync.WaitGroup
}

func (c *llmMetrics) Start(context.Context, component.Host) error {
	if c.interval <= 0 || len(c.defs) == 0 {
		return nil
	}
	c.stop = make(chan struct{})
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		tick := time.NewTicker(c.interval)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				c.flush()
			case <-c.stop:
				return
			}
		}
	}()
	return nil
}

// Shutdown sends what the current interval holds.
func (c *llmMetrics) Shutdown(context.Context) error {
	if c.stop != nil {
		close(c.stop)
		c.done.Wait()
		c.stop = nil
	}
	c.flush()
	return nil
}

func (c *llmMetrics) flush() {
	c.mu.Lock()
	b := c.pending
	c.pending = nil
	c.mu.Unlock()
	if b == nil {
		return
	}
	out := b.finish(time.Now())
	if out.DataPointCount() == 0 {
		return
	}
	if err := c.next.ConsumeMetrics(context.Background(), out); err != nil && c.logger != nil {
		c.logger.Warn("llmmetrics: derived metrics not sent", zap.Int("data_points", out.DataPointCount()), zap.Error(err))
	}
}

// add folds one incoming batch into the interval's points.
func (c *llmMetrics) add(fold func(*batch)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = c.newBatch()
	}
	fold(c.pending)
}

func (c *llmMetrics) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

func (c *llmMetrics) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	if len(c.defs) == 0 {
		return nil
	}
	if c.interval > 0 {
		c.add(func(b *batch) { b.traces(td) })
		return nil
	}
	out := c.Traces(td, time.Now())
	if out.DataPointCount() == 0 {
		return nil
	}
	return c.next.ConsumeMetrics(ctx, out)
}

func (c *llmMetrics) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if len(c.defs) == 0 {
		return nil
	}
	if c.interval > 0 {
		c.add(func(b *batch) { b.logs(ld) })
		return nil
	}
	out := c.Logs(ld, time.Now())
	if out.DataPointCount() == 0 {
		return nil
	}
	return c.next.ConsumeMetrics(ctx, out)
}

// Traces derives the span definitions' metrics from td, stamped now.
func (d *deriver) Traces(td ptrace.Traces, now time.Time) pmetric.Metrics {
	b := d.newBatch()
	b.traces(td)
	return b.finish(now)
}

// traces adds td's spans to the batch's points.
func (b *batch) traces(td ptrace.Traces) {
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		b.resource(rs.Resource().Attributes())
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			spans := rs.ScopeSpans().At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				b.record(span.Attributes(), &span)
			}
		}
	}
}

// Logs derives the log definitions' metrics from ld, stamped now.
func (d *deriver) Logs(ld plog.Logs, now time.Time) pmetric.Metrics {
	b := d.newBatch()
	b.logs(ld)
	return b.finish(now)
}

// logs adds ld's records to the batch's points.
func (b *batch) logs(ld plog.Logs) {
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		b.resource(rl.Resource().Attributes())
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			records := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < records.Len(); k++ {
				b.record(records.At(k).Attributes(), nil)
			}
		}
	}
}
