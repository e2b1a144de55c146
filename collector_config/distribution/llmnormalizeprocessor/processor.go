// Package llmnormalizeprocessor renames the attribute keys instrumentation libraries emit to
// the GenAI conventions, maps their values, and drops bad numbers, from the alias tables that
// collector_config/normalize.py renders (telemetry/aliases.py). A record without an alias costs
// one map lookup per attribute.
package llmnormalizeprocessor // import "github.com/llm-observability-stack/otelcol-llmobs/llmnormalizeprocessor"

import (
	"context"
	"regexp"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

var typ = component.MustNewType("llmnormalize")

// NewFactory returns the processor's factory.
func NewFactory() processor.Factory {
	return processor.NewFactory(typ, func() component.Config { return &Config{} },
		processor.WithTraces(createTraces, component.StabilityLevelDevelopment),
		processor.WithLogs(createLogs, component.StabilityLevelDevelopment),
		processor.WithMetrics(createMetrics, component.StabilityLevelDevelopment))
}

var mutates = processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true})

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	n := newNormalizer(cfg.(*Config))
	return processorhelper.NewTraces(ctx, set, cfg, next, func(_ context.Context, td ptrace.Traces) (ptrace.Traces, error) {
		n.traces(td)
		return td, nil
	}, mutates)
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	n := newNormalizer(cfg.(*Config))
	return processorhelper.NewLogs(ctx, set, cfg, next, func(_ context.Context, ld plog.Logs) (plog.Logs, error) {
		n.logs(ld)
		return ld, nil
	}, mutates)
}

func createMetrics(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
	n := newNormalizer(cfg.(*Config))
	return processorhelper.NewMetrics(ctx, set, cfg, next, func(_ context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
		n.metrics(md)
		return md, nil
	}, mutates)
}

type renames struct {
	list []Rename
	from map[string]struct{}
}

func newRenames(list []Rename) renames {
	r := renames{list: list, from: make(map[string]struct{}, len(list))}
	for _, x := range list {
		r.from[x.From] = struct{}{}
	}
	return r
}

type indexed struct {
	re          *regexp.Regexp
	replacement string
}

// The normalizer keeps only what its config gives: nothing per call, so concurrent batches
// share it safely.
type normalizer struct {
	record, resource renames
	indexed          []indexed
	values           []ValueMap
	lists            []string
	spanNumbers      []string
	logNumbers       []string
	number           *regexp.Regexp
	max              float64
	invalid          string
}

func newNormalizer(c *Config) *normalizer {
	n := &normalizer{record: newRenames(c.Renames), resource: newRenames(c.ResourceRenames), values: c.Values, lists: c.Lists,
		spanNumbers: c.Numeric.Spans, logNumbers: c.Numeric.Logs, max: c.Numeric.Max, invalid: c.Numeric.Attribute}
	for _, i := range c.Indexed {
		n.indexed = append(n.indexed, indexed{regexp.MustCompile(i.Pattern), i.Replacement})
	}
	if c.Numeric.Pattern != "" {
		n.number = regexp.MustCompile(c.Numeric.Pattern)
	}
	return n
}

func present(v pcommon.Value, ok bool) bool { return ok && v.Type() != pcommon.ValueTypeEmpty }

// rename applies the renames in order once any alias key is present: a later rename may
// read a key an earlier one wrote, as the transform statements do.
func rename(m pcommon.Map, r renames) {
	hit := false
	for key := range m.All() {
		if _, ok := r.from[key]; ok {
			hit = true
			break
		}
	}
	if !hit {
		return
	}
	for _, x := range r.list {
		if !present(m.Get(x.From)) {
			continue
		}
		if !present(m.Get(x.To)) {
			dst := m.PutEmpty(x.To)
			src, _ := m.Get(x.From) // after PutEmpty, which may move the map's entries
			src.CopyTo(dst)
		}
		m.Remove(x.From)
	}
}

// dotDigit: a key holds ".<digit>", which every indexed pattern needs.
func dotDigit(key string) bool {
	for i := strings.IndexByte(key, '.'); i >= 0 && i+1 < len(key); {
		if c := key[i+1]; c >= '0' && c <= '9' {
			return true
		}
		j := strings.IndexByte(key[i+1:], '.')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// reindex renames the keys of each pattern in turn, rebuilding the map in its order (a later
// key wins a collision), as replace_all_patterns does in key mode.
func (n *normalizer) reindex(m pcommon.Map) {
	digits := false
	for key := range m.All() {
		if dotDigit(key) {
			digits = true
			break
		}
	}
	if !digits {
		return
	}
	for _, ix := range n.indexed {
		match := false
		for key := range m.All() {
			if ix.re.MatchString(key) {
				match = true
				break
			}
		}
		if !match {
			continue
		}
		updated := pcommon.NewMap()
		updated.EnsureCapacity(m.Len())
		for key, v := range m.All() {
			if ix.re.MatchString(key) {
				key = ix.re.ReplaceAllString(key, ix.replacement)
			}
			v.MoveTo(updated.PutEmpty(key))
		}
		updated.MoveTo(m)
	}
}

func (n *normalizer) mapValues(m pcommon.Map) {
	for _, vm := range n.values {
		v, ok := m.Get(vm.Key)
		if !ok || v.Type() != pcommon.ValueTypeStr {
			continue
		}
		s, changed := v.Str(), false
		for _, p := range vm.Values {
			if strings.EqualFold(s, p.From) {
				s, changed = p.To, true
			}
		}
		if changed {
			v.SetStr(s)
		}
	}
}

// listed: a single string under a list key becomes a one-item list (OpenInference and
// OpenLLMetry emit one finish reason as a string; gen_ai.response.finish_reasons is string[]).
func (n *normalizer) listed(m pcommon.Map) {
	for _, key := range n.lists {
		v, ok := m.Get(key)
		if !ok || v.Type() != pcommon.ValueTypeStr {
			continue
		}
		s := v.Str()
		v.SetEmptySlice().AppendEmpty().SetStr(s)
	}
}

// bad: not a number in [0, max) (a string must look like one). A bool, map, list or bytes
// value is bad too.
func (n *normalizer) bad(v pcommon.Value) bool {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return !n.number.MatchString(v.Str())
	case pcommon.ValueTypeInt:
		return v.Int() < 0 || float64(v.Int()) >= n.max
	case pcommon.ValueTypeDouble:
		f := v.Double()
		return !(f >= 0 && f < n.max) // NaN fails both
	default:
		return true
	}
}

func (n *normalizer) guard(m pcommon.Map, keys []string) {
	for _, key := range keys {
		v, ok := m.Get(key)
		if !present(v, ok) || !n.bad(v) {
			continue
		}
		m.PutStr(n.invalid, key)
		m.Remove(key)
	}
}

// attributes normalizes one record's map; lists is false for data points, whose attributes
// become label values.
func (n *normalizer) attributes(m pcommon.Map, numbers []string, lists bool) {
	rename(m, n.record)
	n.reindex(m)
	n.mapValues(m)
	n.guard(m, numbers)
	if lists {
		n.listed(m)
	}
}

func (n *normalizer) traces(td ptrace.Traces) {
	for _, rs := range td.ResourceSpans().All() {
		rename(rs.Resource().Attributes(), n.resource)
		for _, ss := range rs.ScopeSpans().All() {
			for _, span := range ss.Spans().All() {
				n.attributes(span.Attributes(), n.spanNumbers, true)
				for _, ev := range span.Events().All() {
					n.attributes(ev.Attributes(), nil, true)
				}
			}
		}
	}
}

func (n *normalizer) logs(ld plog.Logs) {
	for _, rl := range ld.ResourceLogs().All() {
		rename(rl.Resource().Attributes(), n.resource)
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				n.attributes(lr.Attributes(), n.logNumbers, true)
			}
		}
	}
}

func (n *normalizer) metrics(md pmetric.Metrics) {
	for _, rm := range md.ResourceMetrics().All() {
		rename(rm.Resource().Attributes(), n.resource)
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				n.points(m)
			}
		}
	}
}

func (n *normalizer) points(m pmetric.Metric) {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		for _, p := range m.Gauge().DataPoints().All() {
			n.attributes(p.Attributes(), nil, false)
		}
	case pmetric.MetricTypeSum:
		for _, p := range m.Sum().DataPoints().All() {
			n.attributes(p.Attributes(), nil, false)
		}
	case pmetric.MetricTypeHistogram:
		for _, p := range m.Histogram().DataPoints().All() {
			n.attributes(p.Attributes(), nil, false)
		}
	case pmetric.MetricTypeExponentialHistogram:
		for _, p := range m.ExponentialHistogram().DataPoints().All() {
			n.attributes(p.Attributes(), nil, false)
		}
	case pmetric.MetricTypeSummary:
		for _, p := range m.Summary().DataPoints().All() {
			n.attributes(p.Attributes(), nil, false)
		}
	}
}
