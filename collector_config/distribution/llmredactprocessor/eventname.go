package llmredactprocessor

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// eventNameAttribute: where SDKs from before the EventName field put a log event's name.
const eventNameAttribute = "event.name"

// eventName is a log record's event name: its EventName field, else its event.name attribute.
func eventName(lr plog.LogRecord) string {
	if n := lr.EventName(); n != "" {
		return n
	}
	if v, ok := lr.Attributes().Get(eventNameAttribute); ok && v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return ""
}
