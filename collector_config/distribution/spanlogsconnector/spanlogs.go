// Package spanlogsconnector turns each span into one log record: the span's attributes, its
// trace and span id and its end time, under the span's resource and scope. The gateway uses it
// to copy the content that instrumentations put only in span attributes into the debug sample
// store (a logs pipeline). Which spans, and what happens to the records, is the pipelines' work
// (a filter before, transforms after): the connector itself only copies.
package spanlogsconnector // import "github.com/llm-observability-stack/otelcol-llmobs/spanlogsconnector"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

var typ = component.MustNewType("spanlogs")

// Config of the connector.
type Config struct {
	// EventName is set on every record made (e.g. gen_ai.client.inference.operation.details,
	// the GenAI convention's event for a call's inputs and outputs); empty leaves it unset.
	EventName string `mapstructure:"event_name"`
}

// NewFactory returns the connector's factory (traces to logs only).
func NewFactory() connector.Factory {
	return connector.NewFactory(typ, func() component.Config { return &Config{} },
		connector.WithTracesToLogs(createTracesToLogs, component.StabilityLevelDevelopment))
}

func createTracesToLogs(_ context.Context, _ connector.Settings, cfg component.Config,
	next consumer.Logs) (connector.Traces, error) {
	return &spanLogs{cfg: cfg.(*Config), next: next}, nil
}

type spanLogs struct {
	component.StartFunc
	component.ShutdownFunc
	cfg  *Config
	next consumer.Logs
}

func (c *spanLogs) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

func (c *spanLogs) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	logs := Convert(td, c.cfg.EventName)
	if logs.LogRecordCount() == 0 {
		return nil
	}
	return c.next.ConsumeLogs(ctx, logs)
}

// Convert makes one log record per span of td. Severity is DEBUG: the GenAI conventions ask
// for it on this event, and the records are copies for debugging, not application logs.
func Convert(td ptrace.Traces, eventName string) plog.Logs {
	logs := plog.NewLogs()
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		rl := logs.ResourceLogs().AppendEmpty()
		rs.Resource().CopyTo(rl.Resource())
		rl.SetSchemaUrl(rs.SchemaUrl())
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			ss := rs.ScopeSpans().At(j)
			sl := rl.ScopeLogs().AppendEmpty()
			ss.Scope().CopyTo(sl.Scope())
			sl.SetSchemaUrl(ss.SchemaUrl())
			for k := 0; k < ss.Spans().Len(); k++ {
				span := ss.Spans().At(k)
				lr := sl.LogRecords().AppendEmpty()
				lr.SetTimestamp(span.EndTimestamp())
				lr.SetObservedTimestamp(span.EndTimestamp())
				lr.SetTraceID(span.TraceID())
				lr.SetSpanID(span.SpanID())
				lr.SetSeverityNumber(plog.SeverityNumberDebug)
				lr.SetSeverityText("DEBUG")
				if eventName != "" {
					lr.SetEventName(eventName)
				}
				span.Attributes().CopyTo(lr.Attributes())
			}
		}
	}
	return logs
}
