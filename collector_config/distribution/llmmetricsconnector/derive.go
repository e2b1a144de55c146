package llmmetricsconnector

import (
	"encoding/binary"
	"regexp"
	"sort"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// A definition with its attribute keys turned into slots of one per-record index: a record's
// attributes are read once (one map lookup per attribute), then every test, value and label
// of every definition is an array access.
type compiled struct {
	Definition
	metric   int // index in deriver.metrics (definitions of one name share it)
	when     []test
	value    int // slot of Value.Key (-1: none)
	per      int // slot of Value.Per (-1: none)
	labels   []int
	required []int // slots of labels without a default
}

type test struct {
	Test
	slot int
	re   *regexp.Regexp
}

type metricInfo struct {
	name, description, unit, kind string
	buckets                       []float64
}

type deriver struct {
	defs     []compiled
	metrics  []metricInfo
	slots    map[string]int
	nslots   int
	resource []Label
	instance string
	prepare  *prepared
}

func compileTest(t Test, slot func(string) int) test {
	ct := test{Test: t, slot: slot(t.Key)}
	if t.Op == "match" {
		ct.re = regexp.MustCompile(t.Regex) // Validate compiled it already
	}
	return ct
}

func compile(defs []Definition, prepare *Prepare, resource []Label, instance string) *deriver {
	d := &deriver{slots: map[string]int{}, resource: resource, instance: instance}
	slot := func(key string) int {
		if key == "" {
			return -1
		}
		if s, ok := d.slots[key]; ok {
			return s
		}
		d.slots[key] = len(d.slots)
		return d.slots[key]
	}
	byName := map[string]int{}
	for _, def := range defs {
		c := compiled{Definition: def, value: slot(def.Value.Key), per: slot(def.Value.Per)}
		m, ok := byName[def.Name]
		if !ok {
			m = len(d.metrics)
			byName[def.Name] = m
			d.metrics = append(d.metrics, metricInfo{def.Name, def.Description, def.Unit, def.Kind, def.Buckets})
		}
		c.metric = m
		for _, t := range def.When {
			c.when = append(c.when, compileTest(t, slot))
		}
		for _, l := range def.Labels {
			s := slot(l.Key)
			c.labels = append(c.labels, s)
			if l.Default == nil {
				c.required = append(c.required, s)
			}
		}
		d.defs = append(d.defs, c)
	}
	d.compilePrepare(prepare, slot)
	d.nslots = len(d.slots)
	return d
}

type point struct {
	metric   int // index in deriver.metrics
	resource int // index in batch.resources
	attrs    pcommon.Map
	isDouble bool
	i        int64
	f        float64
	count    uint64
	counts   []uint64
}

// batch aggregates one ConsumeTraces or ConsumeLogs call.
type batch struct {
	*deriver
	vals      []pcommon.Value
	has       []bool
	resources []pcommon.Map
	resAttrs  pcommon.Map // the current resource's attributes
	byRes     map[string]int
	res       int
	points    map[string]*point // by series key: metric, resource and labels (seriesKey)
	order     []*point
	key       []byte
	allowed   []map[string]bool // per bound step: its regexp's answer for each value seen
}

func (d *deriver) newBatch() *batch {
	return &batch{deriver: d, vals: make([]pcommon.Value, d.nslots), has: make([]bool, d.nslots),
		byRes: map[string]int{}, points: map[string]*point{}}
}

// resource sets the resource of the records that follow: its labels, with their defaults.
func (b *batch) resource(attrs pcommon.Map) {
	b.resAttrs = attrs
	b.key = b.key[:0]
	for _, l := range b.deriver.resource {
		v, ok := attrs.Get(l.Key)
		b.key = appendValue(b.key, v, ok, l.Default)
	}
	if r, ok := b.byRes[string(b.key)]; ok {
		b.res = r
		return
	}
	m := pcommon.NewMap()
	for _, l := range b.deriver.resource {
		if v, ok := attrs.Get(l.Key); ok {
			v.CopyTo(m.PutEmpty(l.Key))
		} else if l.Default != nil {
			m.PutStr(l.Key, *l.Default)
		}
	}
	if b.instance != "" {
		m.PutStr(InstanceKey, b.instance)
	}
	b.res = len(b.resources)
	b.byRes[string(b.key)] = b.res
	b.resources = append(b.resources, m)
}

func (b *batch) record(attrs pcommon.Map, span *ptrace.Span) {
	for i := range b.has {
		b.has[i] = false
	}
	for key, v := range attrs.All() {
		if s, ok := b.slots[key]; ok && !b.has[s] { // the first of a duplicated key, as Map.Get
			b.vals[s], b.has[s] = v, true
		}
	}
	b.prepareRecord(span)
	for i := range b.defs {
		b.apply(&b.defs[i], span)
	}
}

func (b *batch) apply(c *compiled, span *ptrace.Span) {
	for _, s := range c.required {
		if !b.has[s] {
			return
		}
	}
	for i := range c.when {
		if !b.holds(&c.when[i], span) {
			return
		}
	}
	var iv int64
	var fv float64
	isDouble := true
	switch c.Value.From {
	case "one":
		iv, isDouble = 1, false
	case "duration":
		fv = time.Duration(int64(span.EndTimestamp()) - int64(span.StartTimestamp())).Seconds()
	case "int":
		var ok bool
		if iv, ok = b.asInt(c.value); !ok {
			return
		}
		isDouble = false
	case "double":
		var ok bool
		if fv, ok = b.asDouble(c.value); !ok {
			return
		}
		if c.per >= 0 {
			per, ok := b.asDouble(c.per)
			if !ok {
				return
			}
			fv /= per
		}
	case "first":
		if !b.has[c.value] || b.vals[c.value].Type() != pcommon.ValueTypeSlice || b.vals[c.value].Slice().Len() == 0 {
			return
		}
		var ok bool
		if fv, ok = toDouble(b.vals[c.value].Slice().At(0)); !ok {
			return
		}
	}
	// The series key: metric and resource (each a uvarint, so the prefix ends where it
	// should), then the labels. Looked up without a copy; copied only for a new series.
	b.key = binary.AppendUvarint(b.key[:0], uint64(c.metric))
	b.key = binary.AppendUvarint(b.key, uint64(b.res))
	for j, s := range c.labels {
		b.key = appendValue(b.key, b.vals[s], b.has[s], c.Labels[j].Default)
	}
	p, ok := b.points[string(b.key)]
	if !ok {
		p = &point{metric: c.metric, resource: b.res, attrs: pcommon.NewMap(), isDouble: isDouble}
		p.attrs.EnsureCapacity(len(c.labels))
		for j, s := range c.labels {
			if b.has[s] {
				b.vals[s].CopyTo(p.attrs.PutEmpty(c.Labels[j].Key))
			} else {
				p.attrs.PutStr(c.Labels[j].Key, *c.Labels[j].Default)
			}
		}
		if c.Kind == "histogram" {
			p.counts = make([]uint64, len(c.Buckets)+1)
		}
		b.points[string(b.key)] = p
		b.order = append(b.order, p)
	}
	if c.Kind == "histogram" {
		if !isDouble {
			fv = float64(iv)
		}
		p.f += fv
		p.count++
		p.counts[sort.SearchFloat64s(c.Buckets, fv)]++
		return
	}
	if p.isDouble {
		if !isDouble {
			fv = float64(iv)
		}
		p.f += fv
	} else {
		p.i += iv
	}
}

func (b *batch) holds(t *test, span *ptrace.Span) bool {
	switch t.Op {
	case "error_status":
		return span != nil && span.Status().Code() == ptrace.StatusCodeError
	case "root":
		return span != nil && span.ParentSpanID().IsEmpty()
	}
	if !b.has[t.slot] {
		return false
	}
	v := b.vals[t.slot]
	switch t.Op {
	case "present":
		return true
	case "true":
		return v.Type() == pcommon.ValueTypeBool && v.Bool()
	case "eq":
		return v.Type() == pcommon.ValueTypeStr && v.Str() == t.String
	case "int_gt", "int_eq":
		i, ok := toInt(v)
		if !ok {
			return false
		}
		if t.Op == "int_gt" {
			return i > int64(t.Number)
		}
		return i == int64(t.Number)
	case "double_gt":
		f, ok := toDouble(v)
		return ok && f > t.Number
	case "match":
		return t.re.MatchString(text(v))
	case "nonempty_list":
		return v.Type() == pcommon.ValueTypeSlice && v.Slice().Len() > 0
	}
	return false
}

func (b *batch) asInt(s int) (int64, bool) {
	if !b.has[s] {
		return 0, false
	}
	return toInt(b.vals[s])
}

func (b *batch) asDouble(s int) (float64, bool) {
	if !b.has[s] {
		return 0, false
	}
	return toDouble(b.vals[s])
}

// toInt is OTTL's Int(): a float truncated, a decimal string parsed, a bool as 1 or 0.
func toInt(v pcommon.Value) (int64, bool) {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int(), true
	case pcommon.ValueTypeDouble:
		return int64(v.Double()), true
	case pcommon.ValueTypeStr:
		i, err := strconv.ParseInt(v.Str(), 10, 64)
		return i, err == nil
	case pcommon.ValueTypeBool:
		if v.Bool() {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// toDouble is OTTL's Double().
func toDouble(v pcommon.Value) (float64, bool) {
	switch v.Type() {
	case pcommon.ValueTypeDouble:
		return v.Double(), true
	case pcommon.ValueTypeInt:
		return float64(v.Int()), true
	case pcommon.ValueTypeStr:
		f, err := strconv.ParseFloat(v.Str(), 64)
		return f, err == nil
	case pcommon.ValueTypeBool:
		if v.Bool() {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// appendValue writes one label's value into a series key: its type, then its text, so that 7
// and "7" stay two series as they are two attribute values.
func appendValue(key []byte, v pcommon.Value, ok bool, def *string) []byte {
	switch {
	case ok:
		key = append(key, byte(v.Type()))
		if v.Type() == pcommon.ValueTypeStr {
			key = append(key, v.Str()...)
		} else {
			key = append(key, v.AsString()...)
		}
	case def != nil:
		key = append(key, byte(pcommon.ValueTypeStr))
		key = append(key, *def...)
	default:
		key = append(key, 0)
	}
	return append(key, 0xff)
}

func (b *batch) finish(now time.Time) pmetric.Metrics {
	out := pmetric.NewMetrics()
	ts := pcommon.NewTimestampFromTime(now)
	type slot struct{ res, metric int }
	scopes := make([]pmetric.MetricSlice, len(b.resources))
	made := map[slot]pmetric.Metric{}
	for _, p := range b.order {
		info := b.metrics[p.metric]
		if scopes[p.resource] == (pmetric.MetricSlice{}) { // a resource with data points only
			rm := out.ResourceMetrics().AppendEmpty()
			b.resources[p.resource].CopyTo(rm.Resource().Attributes())
			sm := rm.ScopeMetrics().AppendEmpty()
			sm.Scope().SetName(ScopeName)
			scopes[p.resource] = sm.Metrics()
		}
		m, ok := made[slot{p.resource, p.metric}]
		if !ok {
			m = scopes[p.resource].AppendEmpty()
			m.SetName(info.name)
			m.SetDescription(info.description)
			m.SetUnit(info.unit)
			if info.kind == "histogram" {
				m.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
			} else {
				sum := m.SetEmptySum()
				sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
				sum.SetIsMonotonic(true)
			}
			made[slot{p.resource, p.metric}] = m
		}
		if info.kind == "histogram" {
			dp := m.Histogram().DataPoints().AppendEmpty()
			p.attrs.MoveTo(dp.Attributes())
			dp.ExplicitBounds().FromRaw(info.buckets)
			dp.BucketCounts().FromRaw(p.counts)
			dp.SetCount(p.count)
			dp.SetSum(p.f)
			dp.SetTimestamp(ts)
			continue
		}
		dp := m.Sum().DataPoints().AppendEmpty()
		p.attrs.MoveTo(dp.Attributes())
		if p.isDouble {
			dp.SetDoubleValue(p.f)
		} else {
			dp.SetIntValue(p.i)
		}
		dp.SetTimestamp(ts)
	}
	return out
}
