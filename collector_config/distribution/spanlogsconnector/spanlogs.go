// Package spanlogsconnector turns spans into log records under the span's resource and scope,
// with the span's trace and span id: one per span (its attributes, at its end time), or with
// `span_events: true` one per span event (the event's attributes and name, at its time, plus the
// span attributes listed in `span_attributes`). The gateway uses it to copy the content that
// instrumentations put only on spans into the debug sample store (a logs pipeline). Which spans
// and events, and what happens to the records, is the pipelines' work (a filter before,
// transforms after): the connector itself only copies.
package spanlogsconnector // import "github.com/llm-observability-stack/otelcol-llmobs/spanlogsconnector"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

var typ = component.MustNewType("spanlogs")

// Config of the connector.
type Config struct {
	// EventName is set on every record made (e.g. gen_ai.client.inference.operation.details,
	// the GenAI convention's event for a call's inputs and outputs); empty leaves it unset.
	EventName string `mapstructure:"event_name"`
	// SpanEvents: one record per span event instead of one per span. The record's event name
	// is the span event's name unless EventName is set.
	SpanEvents bool `mapstructure:"span_events"`
	// SpanAttributes: with SpanEvents, the span's attributes copied onto each event's record
	// (an event's own attribute of the same key wins).
	SpanAttributes []string `mapstructure:"span_attributes"`
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
	logs := Convert(td, c.cfg)
	if logs.LogRecordCount() == 0 {
		return nil
	}
	return c.next.ConsumeLogs(ctx, logs)
}

// Convert makes one log record per span of td, or per span event with cfg.SpanEvents.
// Severity is DEBUG: the GenAI conventions ask for it on their content event, and the records
// are copies for debugging, not application logs.
func Convert(td ptrace.Traces, cfg *Config) plog.Logs {
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
				if !cfg.SpanEvents {
					lr := record(sl, span, span.EndTimestamp(), cfg.EventName)
					span.Attributes().CopyTo(lr.Attributes())
					continue
				}
				for e := 0; e < span.Events().Len(); e++ {
					event := span.Events().At(e)
					name := cfg.EventName
					if name == "" {
						name = event.Name()
					}
					lr := record(sl, span, event.Timestamp(), name)
					for _, key := range cfg.SpanAttributes {
						if v, ok := span.Attributes().Get(key); ok {
							v.CopyTo(lr.Attributes().PutEmpty(key))
						}
					}
					event.Attributes().Range(func(key string, v pcommon.Value) bool {
						v.CopyTo(lr.Attributes().PutEmpty(key))
						return true
					})
				}
			}
		}
	}
	return logs
}

func record(sl plog.ScopeLogs, span ptrace.Span, ts pcommon.Timestamp, eventName string) plog.LogRecord {
	lr := sl.LogRecords().AppendEmpty()
	lr.SetTimestamp(ts)
	lr.SetObservedTimestamp(ts)
	lr.SetTraceID(span.TraceID())
	lr.SetSpanID(span.SpanID())
	lr.SetSeverityNumber(plog.SeverityNumberDebug)
	lr.SetSeverityText("DEBUG")
	if eventName != "" {
		lr.SetEventName(eventName)
	}
	return lr
}
