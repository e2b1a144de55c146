package llmredactprocessor

import (
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// After the detectors: previews are cut to their final length, then free text under keys no table knows becomes
// content on LLM records.

type guard struct {
	minChars   int
	mode       string
	keep       int // preview mode: runes kept
	exempt     *regexp.Regexp
	bodyExempt map[string]bool
	spanKeys   []string
	lengthKeys map[string]bool // span keys ending in .length: a content key was there
	event      *regexp.Regexp
	attribute  string
	hash       *hasher
}

func newGuard(cfg *Guard, h *hasher) *guard {
	if cfg == nil || cfg.MinChars == 0 {
		return nil
	}
	g := &guard{minChars: cfg.MinChars, mode: cfg.Mode, keep: cfg.PreviewChars,
		exempt: regexp.MustCompile(cfg.Exempt), bodyExempt: map[string]bool{}, spanKeys: cfg.SpanKeys,
		event: regexp.MustCompile(cfg.EventName), attribute: cfg.Attribute, hash: h}
	for _, f := range cfg.BodyExempt {
		g.bodyExempt[f] = true
	}
	// Many `<content key>.length` keys: one pass over a span's keys beats a lookup per key.
	g.lengthKeys = map[string]bool{}
	keys := g.spanKeys[:0:0]
	for _, k := range cfg.SpanKeys {
		if strings.HasSuffix(k, ".length") {
			g.lengthKeys[k] = true
		} else {
			keys = append(keys, k)
		}
	}
	g.spanKeys = keys
	return g
}

// cutPreviews truncates every top-level `*.preview` string to n bytes, backing up to a rune
// start (truncate_all).
func cutPreviews(attrs pcommon.Map, n int) {
	if n <= 0 {
		return
	}
	for k, v := range attrs.All() {
		if v.Type() != pcommon.ValueTypeStr || !strings.HasSuffix(k, ".preview") {
			continue
		}
		s := v.Str()
		if len(s) <= n {
			continue
		}
		at := n
		for at > 0 && !utf8.RuneStart(s[at]) {
			at--
		}
		v.SetStr(s[:at])
	}
}

func (g *guard) llmSpan(attrs pcommon.Map) bool {
	for _, k := range g.spanKeys {
		if _, ok := attrs.Get(k); ok {
			return true
		}
	}
	if len(g.lengthKeys) > 0 {
		for k := range attrs.All() {
			if strings.HasSuffix(k, ".length") && g.lengthKeys[k] {
				return true
			}
		}
	}
	return false
}

// span guards an LLM span's attributes.
func (g *guard) span(attrs pcommon.Map) {
	if g.llmSpan(attrs) {
		g.mark(attrs, g.rewrite(attrs, nil))
	}
}

// log guards a GenAI event's attributes, then its map body (but the body's own content fields).
func (g *guard) log(attrs pcommon.Map, eventName string, body pcommon.Value) {
	if !g.event.MatchString(eventName) {
		return
	}
	first := g.rewrite(attrs, nil)
	if body.Type() == pcommon.ValueTypeMap {
		if f := g.rewrite(body.Map(), g.bodyExempt); first == "" {
			first = f
		}
	}
	g.mark(attrs, first)
}

func (g *guard) mark(attrs pcommon.Map, first string) {
	if first != "" && g.attribute != "" {
		attrs.PutStr(g.attribute, first)
	}
}

// rewrite turns each long, multi-word string under a key that is not exempt into content and
// returns the first such key in key order ("" if none).
func (g *guard) rewrite(m pcommon.Map, skip map[string]bool) string {
	var fired []string
	for k, v := range m.All() {
		if v.Type() != pcommon.ValueTypeStr {
			continue
		}
		s := v.Str()
		// The value tests come first: they are cheaper than the key pattern, and most fail.
		if len(s) < g.minChars || utf8.RuneCountInString(s) < g.minChars || !multiWord(s) || skip[k] || g.exempt.MatchString(k) || summary(s) {
			continue
		}
		v.SetStr(g.content(s))
		fired = append(fired, k)
	}
	if len(fired) == 0 {
		return ""
	}
	sort.Strings(fired)
	return fired[0]
}

func (g *guard) content(s string) string {
	switch g.mode {
	case "hash":
		return "[CONTENT:" + g.hash.name + ":" + g.hash.sum(s) + "]"
	case "preview":
		n, at := 0, 0
		for at < len(s) && n < g.keep {
			_, w := utf8.DecodeRuneInString(s[at:])
			at += w
			n++
		}
		return "[CONTENT:preview] " + s[:at]
	default:
		return "[CONTENT:dropped]"
	}
}

// space is RE2's \s: ASCII tab, newline, form feed, carriage return and space.
func space(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\f' || b == '\r'
}

// multiWord: \S\s+\S somewhere (two words with whitespace between). Every \s is one ASCII
// byte, which no byte of a multi-byte rune equals, so a byte scan reads runes right.
func multiWord(s string) bool {
	word, gap := false, false
	for i := 0; i < len(s); i++ {
		if space(s[i]) {
			gap = word
			continue
		}
		if gap {
			return true
		}
		word = true
	}
	return false
}
