// Package llmredactprocessor runs the gateway's secret and PII detectors natively: every
// string value (at any depth), key and free-text field of every record (resource, scope,
// span, span event, span link, log record and its body, metric data point, exemplar). Each
// record's strings are joined once and every distinct gate is checked on that text; a
// detector runs only on the strings one of its gates that passed also matches. After the
// detectors it can cut previews and guard unknown free text (guard.go). It is the gateway's
// only redaction engine; collector_config/redact.py renders its config from telemetry/detectors.py.
package llmredactprocessor // import "github.com/llm-observability-stack/otelcol-llmobs/llmredactprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

var typ = component.MustNewType("llmredact")

// NewFactory returns the processor's factory.
func NewFactory() processor.Factory {
	return processor.NewFactory(typ, func() component.Config { return &Config{} },
		processor.WithTraces(createTraces, component.StabilityLevelDevelopment),
		processor.WithLogs(createLogs, component.StabilityLevelDevelopment),
		processor.WithMetrics(createMetrics, component.StabilityLevelDevelopment))
}

var mutates = processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true})

// starter reads the content hash key (hash hmac) when the collector starts: a missing, unreadable
// or short key file stops the collector there, naming the file.
func (r *redactor) starter() processorhelper.Option {
	return processorhelper.WithStart(func(context.Context, component.Host) error { return r.hash.load() })
}

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	r := newRedactor(cfg.(*Config))
	return processorhelper.NewTraces(ctx, set, cfg, next, func(_ context.Context, td ptrace.Traces) (ptrace.Traces, error) {
		if err := r.hash.ready(); err != nil {
			return td, err
		}
		r.traces(td)
		return td, nil
	}, mutates, r.starter())
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	r := newRedactor(cfg.(*Config))
	return processorhelper.NewLogs(ctx, set, cfg, next, func(_ context.Context, ld plog.Logs) (plog.Logs, error) {
		if err := r.hash.ready(); err != nil {
			return ld, err
		}
		r.logs(ld)
		return ld, nil
	}, mutates, r.starter())
}

func createMetrics(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
	r := newRedactor(cfg.(*Config))
	return processorhelper.NewMetrics(ctx, set, cfg, next, func(_ context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
		r.metrics(md)
		return md, nil
	}, mutates, r.starter())
}

type text struct {
	get func() string
	set func(string)
}

func (r *redactor) decoded(attrs pcommon.Map, body *pcommon.Value) {
	if r.decode {
		decodeMap(attrs)
		if body != nil {
			decode(*body)
		}
	}
}

// record redacts one record: its attributes, an optional body and free-text fields. It
// returns whether a detector changed any of them.
func (r *redactor) record(s *scan, attrs pcommon.Map, body *pcommon.Value, fields ...text) bool {
	r.decoded(attrs, body)
	return r.detect(s, attrs, body, fields...)
}

// detect runs the detectors on a record whose bytes are decoded (and content policy applied).
func (r *redactor) detect(s *scan, attrs pcommon.Map, body *pcommon.Value, fields ...text) bool {
	if len(r.dets) == 0 {
		return false
	}
	s.reset()
	s.addMap(attrs)
	if body != nil {
		s.addValue(*body)
	}
	for _, f := range fields {
		s.add(f.get())
	}
	if !s.collected() {
		return false
	}
	s.mapping(attrs)
	if body != nil {
		s.value(*body)
	}
	for _, f := range fields {
		s.field(f.get, f.set)
	}
	return s.changed
}

// plain: a resource's or scope's attributes.
func (r *redactor) plain(s *scan, attrs pcommon.Map) {
	r.decoded(attrs, nil)
	r.content.plain(attrs)
	r.detect(s, attrs, nil)
}

func (r *redactor) flagged(attrs pcommon.Map, changed bool) {
	if changed && r.flag != "" {
		attrs.PutBool(r.flag, true)
	}
}

func (r *redactor) traces(td ptrace.Traces) {
	s := r.scans.Get().(*scan)
	defer r.scans.Put(s)
	for _, rs := range td.ResourceSpans().All() {
		r.plain(s, rs.Resource().Attributes())
		for _, ss := range rs.ScopeSpans().All() {
			r.plain(s, ss.Scope().Attributes())
			for _, span := range ss.Spans().All() {
				st := span.Status()
				r.decoded(span.Attributes(), nil)
				s.hashes = r.content.attributes(span.Attributes(), s.hashes[:0])
				changed := r.detect(s, span.Attributes(), nil, text{span.Name, span.SetName},
					text{st.Message, st.SetMessage})
				putHashes(span.Attributes(), s.hashes)
				r.flagged(span.Attributes(), changed)
				cutPreviews(span.Attributes(), r.cut)
				if r.guard != nil {
					r.guard.span(span.Attributes())
				}
				for _, ev := range span.Events().All() {
					r.decoded(ev.Attributes(), nil)
					s.hashes = r.content.event(ev, s.hashes[:0])
					r.detect(s, ev.Attributes(), nil, text{ev.Name, ev.SetName})
					putHashes(ev.Attributes(), s.hashes)
					cutPreviews(ev.Attributes(), r.cut)
				}
				if r.dropLinks && span.Links().Len() > 0 {
					span.SetDroppedLinksCount(span.DroppedLinksCount() + uint32(span.Links().Len()))
					span.Links().RemoveIf(func(ptrace.SpanLink) bool { return true })
				}
				for _, link := range span.Links().All() {
					r.record(s, link.Attributes(), nil)
				}
			}
		}
	}
}

func (r *redactor) logs(ld plog.Logs) {
	s := r.scans.Get().(*scan)
	defer r.scans.Put(s)
	for _, rl := range ld.ResourceLogs().All() {
		r.plain(s, rl.Resource().Attributes())
		for _, sl := range rl.ScopeLogs().All() {
			r.plain(s, sl.Scope().Attributes())
			for _, lr := range sl.LogRecords().All() {
				body := lr.Body()
				r.decoded(lr.Attributes(), &body)
				s.hashes = r.content.log(lr, s.hashes[:0])
				changed := r.detect(s, lr.Attributes(), &body)
				putHashes(lr.Attributes(), s.hashes)
				r.flagged(lr.Attributes(), changed)
				cutPreviews(lr.Attributes(), r.cut)
				r.content.cutBody(lr, r.cut)
				if r.guard != nil {
					r.guard.log(lr.Attributes(), eventName(lr), body)
				}
			}
		}
	}
}

func (r *redactor) metrics(md pmetric.Metrics) {
	s := r.scans.Get().(*scan)
	defer r.scans.Put(s)
	for _, rm := range md.ResourceMetrics().All() {
		r.record(s, rm.Resource().Attributes(), nil)
		for _, sm := range rm.ScopeMetrics().All() {
			r.record(s, sm.Scope().Attributes(), nil)
			for _, m := range sm.Metrics().All() {
				r.points(s, m)
			}
		}
	}
}

func (r *redactor) points(s *scan, m pmetric.Metric) {
	exemplars := func(ex pmetric.ExemplarSlice) {
		for _, e := range ex.All() {
			r.record(s, e.FilteredAttributes(), nil)
		}
	}
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		for _, p := range m.Gauge().DataPoints().All() {
			r.record(s, p.Attributes(), nil)
			exemplars(p.Exemplars())
		}
	case pmetric.MetricTypeSum:
		for _, p := range m.Sum().DataPoints().All() {
			r.record(s, p.Attributes(), nil)
			exemplars(p.Exemplars())
		}
	case pmetric.MetricTypeHistogram:
		for _, p := range m.Histogram().DataPoints().All() {
			r.record(s, p.Attributes(), nil)
			exemplars(p.Exemplars())
		}
	case pmetric.MetricTypeExponentialHistogram:
		for _, p := range m.ExponentialHistogram().DataPoints().All() {
			r.record(s, p.Attributes(), nil)
			exemplars(p.Exemplars())
		}
	case pmetric.MetricTypeSummary:
		for _, p := range m.Summary().DataPoints().All() {
			r.record(s, p.Attributes(), nil)
		}
	}
}
