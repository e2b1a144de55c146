// Package llmmetricsconnector derives the gateway's LLM metrics (telemetry/catalog.py) from spans
// and log records: counters and explicit-bucket histograms, delta temporality, one data point
// per distinct label set in each batch, as the contrib signal_to_metrics connector does. It is
// the gateway's only metrics engine: its conditions and values are a small fixed vocabulary
// (config.go, rendered by collector_config/metrics.py) evaluated on one index of the record's
// attributes, instead of OTTL expressions run per definition.
package llmmetricsconnector // import "github.com/llm-observability-stack/otelcol-llmobs/llmmetricsconnector"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
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
	return &llmMetrics{deriver: compile(c.Spans, c.Prepare.Spans, c.ResourceLabels, instanceID(set)), next: next}, nil
}

func createLogs(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Logs, error) {
	c := cfg.(*Config)
	return &llmMetrics{deriver: compile(c.Logs, c.Prepare.Logs, c.ResourceLabels, instanceID(set)), next: next}, nil
}

type llmMetrics struct {
	component.StartFunc
	component.ShutdownFunc
	*deriver
	next consumer.Metrics
}

func (c *llmMetrics) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

func (c *llmMetrics) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	if len(c.defs) == 0 {
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
	out := c.Logs(ld, time.Now())
	if out.DataPointCount() == 0 {
		return nil
	}
	return c.next.ConsumeMetrics(ctx, out)
}

// Traces derives the span definitions' metrics from td, stamped now.
func (d *deriver) Traces(td ptrace.Traces, now time.Time) pmetric.Metrics {
	b := d.newBatch()
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
	return b.finish(now)
}

// Logs derives the log definitions' metrics from ld, stamped now.
func (d *deriver) Logs(ld plog.Logs, now time.Time) pmetric.Metrics {
	b := d.newBatch()
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
	return b.finish(now)
}
