// Package llmcostprocessor sets the cost of every LLM span from the gateway's price table:
// cost = ((input - cached) * input_price + cached * cached_price + output * output_price) / 1e6.
// It is the transform processor of collector_config/cost.py in Go, with the same results: the
// priced model is the first model key present; the first price naming it exactly wins, then
// the first pattern matching it; a span with a cost already is left alone, an LLM span without
// a price is marked unpriced, never guessed. One pass over the span's attributes, one map
// lookup for the model, instead of ~30 OTTL statements per span.
package llmcostprocessor // import "github.com/llm-observability-stack/otelcol-llmobs/llmcostprocessor"

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strconv"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

var typ = component.MustNewType("llmcost")

// NewFactory returns the processor's factory (traces only: cost is a span attribute).
func NewFactory() processor.Factory {
	return processor.NewFactory(typ, func() component.Config { return &Config{} },
		processor.WithTraces(createTraces, component.StabilityLevelDevelopment))
}

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	c := newCoster(cfg.(*Config))
	return processorhelper.NewTraces(ctx, set, cfg, next, func(_ context.Context, td ptrace.Traces) (ptrace.Traces, error) {
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, span := range ss.Spans().All() {
					c.span(span.Attributes())
				}
			}
		}
		return td, nil
	}, processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}))
}

type pattern struct {
	re    *regexp.Regexp
	price int
}

type coster struct {
	cfg      *Config
	llm      *regexp.Regexp
	exact    map[string]int // model -> the first price naming it
	patterns []pattern
}

func newCoster(cfg *Config) *coster {
	c := &coster{cfg: cfg, llm: regexp.MustCompile(cfg.OperationRegex), exact: map[string]int{}}
	for i, p := range cfg.Prices {
		if _, ok := c.exact[p.Model]; p.Model != "" && !ok {
			c.exact[p.Model] = i
		}
		if p.Pattern != "" {
			c.patterns = append(c.patterns, pattern{regexp.MustCompile("^(?:" + p.Pattern + ")$"), i})
		}
	}
	return c
}

// get is OTTL's attribute read: an empty value is no value.
func get(m pcommon.Map, key string) (pcommon.Value, bool) {
	v, ok := m.Get(key)
	return v, ok && v.Type() != pcommon.ValueTypeEmpty
}

// span prices one span's attributes.
func (c *coster) span(attrs pcommon.Map) {
	if _, ok := get(attrs, c.cfg.CostKey); ok {
		return
	}
	op, ok := get(attrs, c.cfg.OperationKey)
	if !ok {
		return
	}
	if text, ok := stringLike(op); !ok || !c.llm.MatchString(text) {
		return
	}
	var model pcommon.Value
	found := false
	for _, k := range c.cfg.ModelKeys {
		if model, found = get(attrs, k); found {
			break
		}
	}
	price := -1
	if found {
		price = c.lookup(model)
	}
	if price < 0 {
		attrs.PutBool(c.cfg.UnpricedKey, true)
		return
	}
	p := c.cfg.Prices[price]
	in, out, cached := c.count(attrs, c.cfg.InputTokens), c.count(attrs, c.cfg.OutputTokens), c.count(attrs, c.cfg.CachedTokens)
	// Each product rounded on its own (no fused multiply-add), as OTTL evaluates it.
	attrs.PutDouble(c.cfg.CostKey, (float64((in-cached)*p.Input)+float64(cached*p.CachedInput)+float64(out*p.Output))/1000000.0)
}

// lookup: the first price naming the model exactly (a string), else the first pattern its
// text matches; -1 if none.
func (c *coster) lookup(model pcommon.Value) int {
	if model.Type() == pcommon.ValueTypeStr {
		if i, ok := c.exact[model.Str()]; ok {
			return i
		}
	}
	text, ok := stringLike(model)
	if !ok {
		return -1
	}
	for _, p := range c.patterns {
		if p.re.MatchString(text) {
			return p.price
		}
	}
	return -1
}

// count is OTTL's Double() of the attribute, 0 where it is absent or yields nothing.
func (c *coster) count(attrs pcommon.Map, key string) float64 {
	v, ok := get(attrs, key)
	if !ok {
		return 0
	}
	switch v.Type() {
	case pcommon.ValueTypeDouble:
		return v.Double()
	case pcommon.ValueTypeInt:
		return float64(v.Int())
	case pcommon.ValueTypeBool:
		if v.Bool() {
			return 1
		}
		return 0
	case pcommon.ValueTypeStr:
		if f, err := strconv.ParseFloat(v.Str(), 64); err == nil {
			return f
		}
	}
	return 0
}

// stringLike is the text OTTL's IsMatch reads of a value: a string as is, bytes as hex, a map
// or list as JSON, a number or bool as its JSON. false where OTTL's conversion fails (NaN or
// an infinity has no JSON): IsMatch then errs, and the statement is skipped.
func stringLike(v pcommon.Value) (string, bool) {
	var raw any
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return v.Str(), true
	case pcommon.ValueTypeBytes:
		return hex.EncodeToString(v.Bytes().AsRaw()), true
	case pcommon.ValueTypeMap:
		raw = v.Map().AsRaw()
	case pcommon.ValueTypeSlice:
		raw = v.Slice().AsRaw()
	case pcommon.ValueTypeInt:
		raw = v.Int()
	case pcommon.ValueTypeDouble:
		raw = v.Double()
	case pcommon.ValueTypeBool:
		raw = v.Bool()
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return "", false
	}
	return string(b), true
}
