package llmredactprocessor

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Content is the content policy (collector_config/redact.py: _content, _log_body,
// event_content), run after bytes are decoded and before the detectors, so that a hash is of
// what the application sent. A value's text is OTTL's String() of it: a list or map is its
// JSON, so structured content is hashed, measured and cut like a string.
type Content struct {
	Mode string `mapstructure:"mode"` // hash | drop | preview
	// Cut: in preview mode, the bytes a preview keeps before the detectors run (then PreviewCut).
	Cut int `mapstructure:"cut"`
	// Keys: the exact content keys; each one present gets `<key>.length`, its text's bytes.
	Keys []string `mapstructure:"keys"`
	// KeyRegex (anchored RE2) matches every content key and per-item key (`<key>.3.content`).
	KeyRegex string `mapstructure:"key_regex"`
	// Events: span events named so carry content in these plain fields.
	Events []EventContent `mapstructure:"events"`
	// EventName matches a GenAI log event's event_name; its string body, or its map body's
	// BodyFields, are content. BodyKey prefixes the attributes that describe them.
	EventName  string   `mapstructure:"event_name"`
	BodyFields []string `mapstructure:"body_fields"`
	BodyKey    string   `mapstructure:"body_key"`
}

// EventContent: a span event family (Name, RE2) and its content fields.
type EventContent struct {
	Name   string   `mapstructure:"name"`
	Fields []string `mapstructure:"fields"`
}

func (c *Content) validate() error {
	if c.Mode != "hash" && c.Mode != "drop" && c.Mode != "preview" {
		return fmt.Errorf("content: mode %q: want hash, drop or preview", c.Mode)
	}
	if c.Mode == "preview" && c.Cut < 1 {
		return errors.New("content: cut must be at least 1 in preview mode")
	}
	if len(c.Keys) == 0 || c.BodyKey == "" {
		return errors.New("content: keys and body_key are required")
	}
	res := map[string]string{"key_regex": c.KeyRegex, "event_name": c.EventName}
	for i, e := range c.Events {
		res[fmt.Sprintf("events[%d]", i)] = e.Name
	}
	for name, re := range res {
		if _, err := regexp.Compile(re); err != nil {
			return fmt.Errorf("content: %s: %w", name, err)
		}
	}
	return nil
}

type eventContent struct {
	name   *regexp.Regexp
	fields []string
}

type policy struct {
	Content
	hash   *hasher
	keys   map[string]int // index in Keys (the first, if a key is listed twice)
	key    *regexp.Regexp
	events []eventContent
	genai  *regexp.Regexp
}

func newPolicy(c *Content, h *hasher) *policy {
	if c == nil {
		return nil
	}
	p := &policy{Content: *c, hash: h, keys: map[string]int{}, key: regexp.MustCompile(c.KeyRegex), genai: regexp.MustCompile(c.EventName)}
	for i, k := range c.Keys {
		if _, ok := p.keys[k]; !ok {
			p.keys[k] = i
		}
	}
	for _, e := range c.Events {
		p.events = append(p.events, eventContent{regexp.MustCompile(e.Name), e.Fields})
	}
	return p
}

// content: a key the key pattern matches. Most keys are neither an exact content key nor hold
// `.<digit>` after one, so the pattern runs on few keys.
func (p *policy) content(key string) bool {
	if _, ok := p.keys[key]; ok {
		return true
	}
	for i := 1; i+1 < len(key); i++ {
		if key[i] == '.' && key[i+1] >= '0' && key[i+1] <= '9' {
			if _, ok := p.keys[key[:i]]; ok {
				return p.key.MatchString(key)
			}
		}
	}
	return false
}

// valueText is OTTL's String() of a value (bytes were decoded to text before).
func valueText(v pcommon.Value) string {
	if v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return v.AsString()
}

// cut keeps at most n bytes of s, backing up to a rune start.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// lengths puts `<key>.length` for each exact content key of m, in the order of Keys. found
// holds every content key of m (matching), so only those are looked up.
func (p *policy) lengths(m pcommon.Map, found []string) {
	var at [8]int
	idx := at[:0]
	for _, k := range found {
		if i, ok := p.keys[k]; ok && !slices.Contains(idx, i) { // a key can be in m twice
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	for _, i := range idx {
		k := p.Keys[i]
		if v, ok := m.Get(k); ok {
			m.PutInt(k+".length", int64(len(valueText(v))))
		}
	}
}

// matching: the content keys of m. The policy is shared by concurrent batches: no state of its own.
func (p *policy) matching(m pcommon.Map) []string {
	var found []string
	for k := range m.All() {
		if p.content(k) {
			found = append(found, k)
		}
	}
	return found
}

// hashed is a hash the policy computed, put on the record only after the detectors ran: a digest
// the gateway made holds nothing to find, scanning it costs a gate check per byte, and its
// hex can pass a gate by chance (eight digits in a row pass the card gates: about one digest in
// five), which then runs that detector on the record for nothing.
type hashed struct{ key, sum string }

// putHashes puts the hashes of one record (after its detectors).
func putHashes(m pcommon.Map, hs []hashed) {
	for _, h := range hs {
		m.PutStr(h.key, h.sum)
	}
}

// plain: resource and scope attributes keep only the lengths.
func (p *policy) plain(m pcommon.Map) {
	if p == nil {
		return
	}
	found := p.matching(m)
	p.lengths(m, found)
	for _, k := range found {
		m.Remove(k)
	}
}

// attributes of a span, span event or log record: lengths, then each content key's value is
// hashed (appended to hs, for putHashes after the detectors), previewed or dropped.
func (p *policy) attributes(m pcommon.Map, hs []hashed) []hashed {
	if p == nil {
		return hs
	}
	found := p.matching(m)
	if len(found) == 0 {
		return hs
	}
	// Room for what is added (a length, a hash, a preview per key) at once, not by doubling.
	per := 1
	if p.Mode != "drop" {
		per++
	}
	if p.Mode == "preview" {
		per++
	}
	m.EnsureCapacity(m.Len() + per*len(found))
	p.lengths(m, found)
	for _, k := range found {
		v, ok := m.Get(k)
		if !ok {
			continue
		}
		t := valueText(v)
		if p.Mode == "preview" {
			m.PutStr(k+".preview", cut(t, p.Cut))
		}
		if p.Mode != "drop" {
			hs = append(hs, hashed{k + p.hash.suffix(), p.hash.sum(t)})
		}
		m.Remove(k)
	}
	return hs
}

// event: a span event's own content fields, then its attributes; the hashes appended to hs.
func (p *policy) event(ev ptrace.SpanEvent, hs []hashed) []hashed {
	if p == nil {
		return hs
	}
	attrs := ev.Attributes()
	for _, e := range p.events {
		if !e.name.MatchString(ev.Name()) {
			continue
		}
		for _, f := range e.fields {
			v, ok := attrs.Get(f)
			if !ok {
				continue
			}
			t := valueText(v)
			attrs.PutInt(f+".length", int64(len(t)))
			if p.Mode != "drop" {
				hs = append(hs, hashed{f + p.hash.suffix(), p.hash.sum(t)})
			}
			if p.Mode == "preview" {
				attrs.PutStr(f+".preview", cut(t, p.Cut))
			}
			attrs.Remove(f)
		}
	}
	return p.attributes(attrs, hs)
}

// log: a log record's attributes, then a GenAI event's body; the hashes appended to hs.
func (p *policy) log(lr plog.LogRecord, hs []hashed) []hashed {
	if p == nil {
		return hs
	}
	attrs := lr.Attributes()
	hs = p.attributes(attrs, hs)
	if !p.genai.MatchString(eventName(lr)) {
		return hs
	}
	body := lr.Body()
	switch body.Type() {
	case pcommon.ValueTypeStr:
		// Every mode keeps the whole body's hash and length, as for a map body's fields and a
		// content key's value (preview mode too: a preview is not the text).
		hs = append(hs, hashed{p.BodyKey + p.hash.suffix(), p.hash.sum(body.Str())})
		attrs.PutInt(p.BodyKey+".length", int64(len(body.Str())))
		if p.Mode == "preview" {
			body.SetStr(cut(body.Str(), p.Cut))
			return hs
		}
		body.SetStr("[CONTENT:" + p.Mode + "]")
	case pcommon.ValueTypeMap:
		for _, f := range p.BodyFields {
			v, ok := body.Map().Get(f)
			if !ok {
				continue
			}
			t := valueText(v)
			hs = append(hs, hashed{p.BodyKey + "." + f + p.hash.suffix(), p.hash.sum(t)})
			if p.Mode != "preview" {
				body.Map().Remove(f)
			} else if len(t) > p.Cut {
				v.SetStr(cut(t, p.Cut))
			}
		}
	}
	return hs
}

// cutBody: after the detectors, a GenAI event's string body and map body fields are cut to
// the preview's final length (n bytes).
func (p *policy) cutBody(lr plog.LogRecord, n int) {
	if p == nil || p.Mode != "preview" || n <= 0 || !p.genai.MatchString(eventName(lr)) {
		return
	}
	body := lr.Body()
	switch body.Type() {
	case pcommon.ValueTypeStr:
		if len(body.Str()) > n {
			body.SetStr(cut(body.Str(), n))
		}
	case pcommon.ValueTypeMap:
		for _, f := range p.BodyFields {
			if v, ok := body.Map().Get(f); ok {
				if t := valueText(v); len(t) > n {
					v.SetStr(cut(t, n))
				}
			}
		}
	}
}
