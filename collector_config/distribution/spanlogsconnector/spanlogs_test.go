package spanlogsconnector

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func traces() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "app")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("openllmetry")
	for i := byte(1); i <= 2; i++ {
		span := ss.Spans().AppendEmpty()
		span.SetTraceID(pcommon.TraceID{i})
		span.SetSpanID(pcommon.SpanID{i, i})
		span.SetEndTimestamp(pcommon.Timestamp(1000 * uint64(i)))
		span.Attributes().PutStr("gen_ai.input.messages", "hello")
		span.Attributes().PutInt("gen_ai.usage.input_tokens", int64(i))
		span.Attributes().PutStr("llmobs.tenant", "acme")
		event := span.Events().AppendEmpty()
		event.SetName("gen_ai.content.prompt")
		event.SetTimestamp(pcommon.Timestamp(500 * uint64(i)))
		event.Attributes().PutStr("gen_ai.prompt", "event content")
		event.Attributes().PutStr("llmobs.tenant", "event's own")
		other := span.Events().AppendEmpty()
		other.SetName("LLMChatStartEvent")
		other.Attributes().PutStr("messages", "more")
	}
	return td
}

func TestSpanEventsOneRecordPerEventWithTheListedSpanAttributes(t *testing.T) {
	logs := Convert(traces(), &Config{SpanEvents: true, SpanAttributes: []string{"gen_ai.usage.input_tokens", "llmobs.tenant", "absent"}})
	records := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	if records.Len() != 4 {
		t.Fatalf("records: got %d, want 4 (two events on each of two spans)", records.Len())
	}
	first := records.At(0)
	if first.EventName() != "gen_ai.content.prompt" || records.At(1).EventName() != "LLMChatStartEvent" {
		t.Errorf("event names: %q %q", first.EventName(), records.At(1).EventName())
	}
	if first.Timestamp() != 500 || first.SpanID() != (pcommon.SpanID{1, 1}) || first.TraceID() != (pcommon.TraceID{1}) {
		t.Errorf("time or ids: %v %v %v", first.Timestamp(), first.SpanID(), first.TraceID())
	}
	want := map[string]any{"gen_ai.prompt": "event content", "llmobs.tenant": "event's own", "gen_ai.usage.input_tokens": int64(1)}
	got := first.Attributes().AsRaw()
	if len(got) != len(want) {
		t.Fatalf("attributes: %v, want %v", got, want)
	}
	for key, v := range want {
		if got[key] != v {
			t.Errorf("attribute %s: %v, want %v", key, got[key], v)
		}
	}
	if v, _ := records.At(1).Attributes().Get("llmobs.tenant"); v.Str() != "acme" {
		t.Errorf("the span's tenant is not on the second event's record: %v", records.At(1).Attributes().AsRaw())
	}
	named := Convert(traces(), &Config{SpanEvents: true, EventName: "x"})
	if named.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(1).EventName() != "x" {
		t.Error("event_name does not replace the span event's name")
	}
}

func TestOneRecordPerSpanWithItsAttributesIdsAndResource(t *testing.T) {
	sink := new(consumertest.LogsSink)
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.EventName = "gen_ai.client.inference.operation.details"
	conn, err := f.CreateTracesToLogs(context.Background(), connectortest.NewNopSettings(typ), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.ConsumeTraces(context.Background(), traces()); err != nil {
		t.Fatal(err)
	}
	if got := sink.LogRecordCount(); got != 2 {
		t.Fatalf("records: got %d, want 2", got)
	}
	rl := sink.AllLogs()[0].ResourceLogs().At(0)
	if v, _ := rl.Resource().Attributes().Get("service.name"); v.Str() != "app" {
		t.Errorf("resource not copied: %v", rl.Resource().Attributes().AsRaw())
	}
	if name := rl.ScopeLogs().At(0).Scope().Name(); name != "openllmetry" {
		t.Errorf("scope not copied: %q", name)
	}
	for k := 0; k < 2; k++ {
		lr := rl.ScopeLogs().At(0).LogRecords().At(k)
		i := byte(k + 1)
		if lr.TraceID() != (pcommon.TraceID{i}) || lr.SpanID() != (pcommon.SpanID{i, i}) {
			t.Errorf("record %d: ids %v %v", k, lr.TraceID(), lr.SpanID())
		}
		if lr.Timestamp() != pcommon.Timestamp(1000*uint64(i)) || lr.SeverityNumber() != plog.SeverityNumberDebug {
			t.Errorf("record %d: time %v severity %v", k, lr.Timestamp(), lr.SeverityNumber())
		}
		if lr.EventName() != cfg.EventName {
			t.Errorf("record %d: event name %q", k, lr.EventName())
		}
		if v, _ := lr.Attributes().Get("gen_ai.usage.input_tokens"); v.Int() != int64(i) {
			t.Errorf("record %d: attributes %v", k, lr.Attributes().AsRaw())
		}
		if v, _ := lr.Attributes().Get("gen_ai.input.messages"); v.Str() != "hello" || lr.Attributes().Len() != 3 {
			t.Errorf("record %d: attributes %v", k, lr.Attributes().AsRaw())
		}
	}
}

func TestNoSpansSendNothing(t *testing.T) {
	sink := new(consumertest.LogsSink)
	conn, err := NewFactory().CreateTracesToLogs(context.Background(), connectortest.NewNopSettings(typ),
		&Config{}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.ConsumeTraces(context.Background(), ptrace.NewTraces()); err != nil {
		t.Fatal(err)
	}
	if len(sink.AllLogs()) != 0 {
		t.Fatalf("sent %d batches for no spans", len(sink.AllLogs()))
	}
}

func TestInputIsNotChanged(t *testing.T) {
	td := traces()
	logs := Convert(td, &Config{})
	logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutStr("gen_ai.input.messages", "x")
	if v, _ := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().Get("gen_ai.input.messages"); v.Str() != "hello" {
		t.Fatalf("the span changed with its record: %q", v.Str())
	}
	if logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).EventName() != "" {
		t.Fatal("an empty event name was set")
	}
}
