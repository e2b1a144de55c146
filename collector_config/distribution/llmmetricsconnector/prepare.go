package llmmetricsconnector

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Prepare lists the attributes the metric path adds to its view of each record before the
// definitions read it (the record itself is never changed, so the pipeline need not copy it).
// The steps run in this order: flags, defaults, windows, hashes, bounds.
type Prepare struct {
	Flags    []Flag    `mapstructure:"flags"`
	Defaults []Default `mapstructure:"defaults"`
	Windows  *Windows  `mapstructure:"windows"`
	Hashes   []Hash    `mapstructure:"hashes"`
	Bounds   []Bound   `mapstructure:"bounds"`
}

// Flag: Key is true where every test of When holds.
type Flag struct {
	Key  string `mapstructure:"key"`
	When []Test `mapstructure:"when"`
}

// Default: Key is String where the record lacks Key and every test of When holds.
type Default struct {
	Key    string `mapstructure:"key"`
	String string `mapstructure:"string"`
	When   []Test `mapstructure:"when"`
}

// Windows: Key (absent on the record, and When holding) is the window of the model named by
// the first present attribute of Models: the last exact entry naming it, else the first
// pattern (RE2, full match of its text) it matches.
type Windows struct {
	Key      string   `mapstructure:"key"`
	Models   []string `mapstructure:"models"`
	When     []Test   `mapstructure:"when"`
	Exact    []Window `mapstructure:"exact"`
	Patterns []Window `mapstructure:"patterns"`
}

// Window of one model (Model, exact) or one family of models (Regex).
type Window struct {
	Model  string `mapstructure:"model"`
	Regex  string `mapstructure:"regex"`
	Tokens int64  `mapstructure:"tokens"`
}

// Hash: Key is the first Chars hex digits of the SHA-256 of From's text, where From is set.
type Hash struct {
	Key   string `mapstructure:"key"`
	From  string `mapstructure:"from"`
	Chars int    `mapstructure:"chars"`
}

// Bound folds a label outside its allowlist into "other" and sets Marker. The label is Label,
// copied as text from Source (of the resource when Resource) where Source is set; a Label the
// record carries itself is bounded all the same.
type Bound struct {
	Label    string `mapstructure:"label"`
	Source   string `mapstructure:"source"`
	Resource bool   `mapstructure:"resource"`
	Allow    string `mapstructure:"allow"` // RE2
	Marker   string `mapstructure:"marker"`
}

// Other is what a label outside its bound becomes.
const Other = "other"

func (p *Prepare) validate(signal string) error {
	if p == nil {
		return nil
	}
	var errs []error
	tests := func(where string, when []Test) {
		for j, t := range when {
			if err := t.validate(signal); err != nil {
				errs = append(errs, fmt.Errorf("%s: when[%d]: %w", where, j, err))
			}
		}
	}
	for i, f := range p.Flags {
		if f.Key == "" {
			errs = append(errs, fmt.Errorf("flags[%d]: key is empty", i))
		}
		tests(fmt.Sprintf("flags[%d]", i), f.When)
	}
	for i, d := range p.Defaults {
		if d.Key == "" {
			errs = append(errs, fmt.Errorf("defaults[%d]: key is empty", i))
		}
		tests(fmt.Sprintf("defaults[%d]", i), d.When)
	}
	if w := p.Windows; w != nil {
		if w.Key == "" || len(w.Models) == 0 {
			errs = append(errs, errors.New("windows: key and models are required"))
		}
		tests("windows", w.When)
		for i, e := range w.Patterns {
			if _, err := regexp.Compile(e.Regex); err != nil {
				errs = append(errs, fmt.Errorf("windows.patterns[%d]: %w", i, err))
			}
		}
	}
	for i, h := range p.Hashes {
		if h.Key == "" || h.From == "" || h.Chars < 1 || h.Chars > 64 {
			errs = append(errs, fmt.Errorf("hashes[%d]: key, from and chars (1 to 64) are required", i))
		}
	}
	for i, b := range p.Bounds {
		if b.Label == "" || b.Source == "" || b.Marker == "" {
			errs = append(errs, fmt.Errorf("bounds[%d]: label, source and marker are required", i))
		}
		if _, err := regexp.Compile(b.Allow); err != nil {
			errs = append(errs, fmt.Errorf("bounds[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

type preparedTests []test

type flagStep struct {
	slot int
	when preparedTests
}

type defaultStep struct {
	slot  int
	value pcommon.Value
	when  preparedTests
}

type windowsStep struct {
	slot     int
	models   []int
	when     preparedTests
	exact    map[string]pcommon.Value
	patterns []*regexp.Regexp
	tokens   []pcommon.Value
}

type hashStep struct {
	slot, from, chars int
}

type boundStep struct {
	Bound
	slot, source, marker int
	re                   *regexp.Regexp
}

type prepared struct {
	flags    []flagStep
	defaults []defaultStep
	windows  *windowsStep
	hashes   []hashStep
	bounds   []boundStep
}

var (
	valueTrue  = pcommon.NewValueBool(true)
	valueOther = pcommon.NewValueStr(Other)
)

func (d *deriver) compilePrepare(p *Prepare, slot func(string) int) {
	if p == nil {
		return
	}
	pr := &prepared{}
	tests := func(when []Test) preparedTests {
		var out preparedTests
		for _, t := range when {
			out = append(out, compileTest(t, slot))
		}
		return out
	}
	for _, f := range p.Flags {
		pr.flags = append(pr.flags, flagStep{slot(f.Key), tests(f.When)})
	}
	for _, df := range p.Defaults {
		pr.defaults = append(pr.defaults, defaultStep{slot(df.Key), pcommon.NewValueStr(df.String), tests(df.When)})
	}
	if w := p.Windows; w != nil {
		ws := &windowsStep{slot: slot(w.Key), when: tests(w.When), exact: map[string]pcommon.Value{}}
		for _, m := range w.Models {
			ws.models = append(ws.models, slot(m))
		}
		for _, e := range w.Exact {
			ws.exact[e.Model] = pcommon.NewValueInt(e.Tokens) // the last entry of a name wins, as in OTTL
		}
		for _, e := range w.Patterns {
			ws.patterns = append(ws.patterns, regexp.MustCompile(e.Regex))
			ws.tokens = append(ws.tokens, pcommon.NewValueInt(e.Tokens))
		}
		pr.windows = ws
	}
	for _, h := range p.Hashes {
		pr.hashes = append(pr.hashes, hashStep{slot(h.Key), slot(h.From), h.Chars})
	}
	for _, b := range p.Bounds {
		bs := boundStep{Bound: b, slot: slot(b.Label), source: -1, marker: slot(b.Marker), re: regexp.MustCompile(b.Allow)}
		if !b.Resource {
			bs.source = slot(b.Source)
		}
		pr.bounds = append(pr.bounds, bs)
	}
	d.prepare = pr
}

func (b *batch) set(slot int, v pcommon.Value) {
	b.vals[slot], b.has[slot] = v, true
}

func (b *batch) all(when preparedTests, span *ptrace.Span) bool {
	for i := range when {
		if !b.holds(&when[i], span) {
			return false
		}
	}
	return true
}

// prepareRecord writes the Prepare steps' attributes into the record's index.
func (b *batch) prepareRecord(span *ptrace.Span) {
	p := b.prepare
	if p == nil {
		return
	}
	for i := range p.flags {
		if b.all(p.flags[i].when, span) {
			b.set(p.flags[i].slot, valueTrue)
		}
	}
	for i := range p.defaults {
		if !b.has[p.defaults[i].slot] && b.all(p.defaults[i].when, span) {
			b.set(p.defaults[i].slot, p.defaults[i].value)
		}
	}
	if w := p.windows; w != nil && !b.has[w.slot] && b.all(w.when, span) {
		b.window(w)
	}
	for _, h := range p.hashes {
		if b.has[h.from] {
			sum := sha256.Sum256([]byte(text(b.vals[h.from])))
			b.set(h.slot, pcommon.NewValueStr(hex.EncodeToString(sum[:])[:h.chars]))
		}
	}
	for i := range p.bounds {
		b.bound(i, &p.bounds[i])
	}
}

func (b *batch) window(w *windowsStep) {
	for _, s := range w.models {
		if !b.has[s] {
			continue
		}
		model := b.vals[s]
		if model.Type() == pcommon.ValueTypeStr {
			if tokens, ok := w.exact[model.Str()]; ok {
				b.set(w.slot, tokens)
				return
			}
		}
		name := text(model)
		for i, re := range w.patterns {
			if re.MatchString(name) {
				b.set(w.slot, w.tokens[i])
				return
			}
		}
		return
	}
}

func (b *batch) bound(i int, s *boundStep) {
	switch {
	case s.Resource:
		if v, ok := b.resAttrs.Get(s.Source); ok {
			if v.Type() != pcommon.ValueTypeStr {
				v = pcommon.NewValueStr(text(v))
			}
			b.set(s.slot, v)
		}
	case s.source != s.slot:
		if b.has[s.source] {
			v := b.vals[s.source]
			if v.Type() != pcommon.ValueTypeStr {
				v = pcommon.NewValueStr(text(v))
			}
			b.set(s.slot, v)
		}
	}
	if !b.has[s.slot] {
		return
	}
	v := b.vals[s.slot]
	if v.Type() == pcommon.ValueTypeStr && v.Str() == Other || b.allows(i, s, text(v)) {
		return
	}
	b.set(s.marker, valueTrue)
	b.set(s.slot, valueOther)
}

// allowedMax: values a bound step remembers per batch; past it (values beyond the bound are
// what the step is for) the regexp runs each time.
const allowedMax = 1024

// allows: s's regexp on t, asked once per distinct value in a batch (the values repeat).
func (b *batch) allows(i int, s *boundStep, t string) bool {
	if b.allowed == nil {
		b.allowed = make([]map[string]bool, len(b.prepare.bounds))
	}
	m := b.allowed[i]
	if ok, seen := m[t]; seen {
		return ok
	}
	ok := s.re.MatchString(t)
	if m == nil {
		m = map[string]bool{}
		b.allowed[i] = m
	}
	if len(m) < allowedMax {
		m[t] = ok
	}
	return ok
}

// text is OTTL's String() of a value: bytes in hex, the rest as pcommon renders them (a float
// as JSON does, maps and lists as JSON).
func text(v pcommon.Value) string {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return v.Str()
	case pcommon.ValueTypeBytes:
		return hex.EncodeToString(v.Bytes().AsRaw())
	}
	return v.AsString()
}
