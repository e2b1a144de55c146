package llmredactprocessor

import (
	"bytes"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// longS: Go's (?i) folds `s` with U+017F, which lowercasing keeps; a text holding one passes
// every lowered gate, so no match is lost.
const longS = "\u017f"

type gate struct {
	re     *regexp.Regexp
	pairs  []pairCheck // necessary: each pair occurs in the text (bigram.go)
	lead   []byteSet   // necessary: all of them at one place, from an occurrence of prefix[0]
	prefix string      // the literal every match starts with ("" if none)
	whole  bool        // the gate is that literal
	lower  bool
}

type detector struct {
	re    *regexp.Regexp
	repl  string
	gates []int          // indexes into redactor.gates; empty: always runs
	valid check          // nil: every match (validate.go)
	after *regexp.Regexp // with a check: `(?s:.)(?:re)`, re after one rune (validate.go, next)
	byKey bool           // re matches attribute keys (validate.go)
}

type redactor struct {
	gates     []gate
	dets      []detector
	anyLower  bool
	anyByKey  bool
	keyRepl   string
	flag      string
	decode    bool
	dropLinks bool
	cut       int
	guard     *guard  // nil: none
	content   *policy // nil: none
}

func newRedactor(cfg *Config) *redactor {
	r := &redactor{keyRepl: cfg.KeyReplacement, flag: cfg.FlagAttribute, decode: cfg.DecodeBytes, dropLinks: cfg.DropLinks,
		cut: cfg.PreviewCut, guard: newGuard(cfg.Guard), content: newPolicy(cfg.Content)}
	index := map[Gate]int{}
	for _, d := range cfg.Detectors {
		det := detector{re: regexp.MustCompile(d.Regex), repl: d.Replacement, valid: validity[d.Check], byKey: d.ByKey}
		if det.valid != nil {
			det.after = regexp.MustCompile(`(?s:.)(?:` + d.Regex + `)`)
		}
		r.anyByKey = r.anyByKey || d.ByKey
		for _, g := range d.Gates {
			i, ok := index[g]
			if !ok {
				re := regexp.MustCompile(g.Regex)
				prefix, whole := re.LiteralPrefix()
				i = len(r.gates)
				index[g] = i
				gt := gate{re: re, pairs: checks(g.Regex), prefix: prefix, whole: whole, lower: g.Lower}
				if lead := leading(g.Regex); prefix != "" && len(lead) > len(prefix) {
					gt.lead = lead
				}
				r.gates = append(r.gates, gt)
				r.anyLower = r.anyLower || g.Lower
			}
			det.gates = append(det.gates, i)
		}
		r.dets = append(r.dets, det)
	}
	return r
}

func (g *gate) match(text, lower []byte, folded bool, seen *pairs) bool {
	if g.lower {
		if folded {
			return true
		}
		text = lower
	}
	if !g.lower || seen.ascii { // lowercasing a non-ASCII rune may make an ASCII pair
		for i := range g.pairs {
			if !seen.any(&g.pairs[i]) {
				return false
			}
		}
	}
	if g.prefix != "" && !bytes.Contains(text, []byte(g.prefix)) {
		return false
	}
	if g.lead != nil && !sequenceIn(g.lead, g.prefix[0], text) {
		return false
	}
	return g.whole || g.re.Match(text)
}

func (g *gate) matchString(s string) bool {
	if g.lower {
		if strings.Contains(s, longS) {
			return true
		}
		s = strings.ToLower(s)
	}
	if g.prefix != "" && !strings.Contains(s, g.prefix) {
		return false
	}
	if g.lead != nil && !sequenceInString(g.lead, g.prefix[0], s) {
		return false
	}
	return g.whole || g.re.MatchString(s)
}

// scan holds one record's work: its strings' text, which detectors may fire, and whether a
// string must be mended (invalid UTF-8).
type scan struct {
	r       *redactor
	text    []byte
	lower   []byte // text lowercased, the buffer kept from record to record
	hit     []bool // per gate, on the record's text
	seen    *pairs
	active  []int // detectors whose gate passed (or that have none)
	invalid bool
	changed bool // a detector rewrote something
}

func (s *scan) reset() {
	s.text, s.active, s.invalid, s.changed = s.text[:0], s.active[:0], false, false
}

func (s *scan) add(str string) {
	s.text = append(append(s.text, str...), '\n')
	if !s.invalid && !utf8.ValidString(str) {
		s.invalid = true
	}
}

func (s *scan) addValue(v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		s.add(v.Str())
	case pcommon.ValueTypeMap:
		s.addMap(v.Map())
	case pcommon.ValueTypeSlice:
		sl := v.Slice()
		for i := 0; i < sl.Len(); i++ {
			s.addValue(sl.At(i))
		}
	}
}

func (s *scan) addMap(m pcommon.Map) {
	for k, v := range m.All() {
		s.add(k)
		s.addValue(v)
	}
}

// gate decides which detectors run; false: the record is clean and valid, nothing to do.
func (s *scan) gate() bool {
	var lower []byte
	folded := false
	if s.r.anyLower {
		lower = s.text
		if needsLower(s.text) {
			s.lower = lowerInto(s.lower[:0], s.text)
			lower = s.lower
		}
		folded = bytes.Contains(s.text, []byte(longS))
	}
	if s.seen == nil {
		s.seen = new(pairs)
	}
	s.seen.fill(s.text, s.r.anyLower)
	s.hit = s.hit[:0]
	for i := range s.r.gates {
		s.hit = append(s.hit, s.r.gates[i].match(s.text, lower, folded, s.seen))
	}
	for i, d := range s.r.dets {
		run := len(d.gates) == 0
		for _, g := range d.gates {
			run = run || s.hit[g]
		}
		if run {
			s.active = append(s.active, i)
		}
	}
	return len(s.active) > 0 || s.invalid
}

// needsLower: lowercasing may change text (an upper-case ASCII letter or a non-ASCII byte).
func needsLower(text []byte) bool {
	for _, b := range text {
		if b-'A' < 26 || b > unicode.MaxASCII {
			return true
		}
	}
	return false
}

// lowerInto is bytes.ToLower(text) written into buf when text is ASCII (the usual case).
func lowerInto(buf, text []byte) []byte {
	for _, b := range text {
		if b > unicode.MaxASCII {
			return bytes.ToLower(text)
		}
	}
	for _, b := range text {
		buf = append(buf, lowerASCII(b))
	}
	return buf
}

// runs: detector i may match str (one of its gates that passed on the text matches str).
func (s *scan) runs(i int, str string) bool {
	d := &s.r.dets[i]
	if len(d.gates) == 0 {
		return true
	}
	for _, g := range d.gates {
		if s.hit[g] && s.r.gates[g].matchString(str) {
			return true
		}
	}
	return false
}

// rewrite returns str with invalid bytes mended and every active detector applied in order.
func (s *scan) rewrite(str string) string {
	if s.invalid {
		str = mend(str)
	}
	for _, i := range s.active {
		if !s.runs(i, str) {
			continue
		}
		d := &s.r.dets[i]
		if d.byKey {
			continue
		}
		if d.valid != nil {
			if out, ok := d.replaceChecked(str); ok {
				str, s.changed = out, true
			}
			continue
		}
		if d.re.FindStringIndex(str) != nil {
			str = d.re.ReplaceAllString(str, d.repl)
			s.changed = true
		}
	}
	return str
}

// rewriteKey cuts a key at the first match of any active detector.
func (s *scan) rewriteKey(key string) string {
	if s.invalid {
		key = mend(key)
	}
	cut := -1
	for _, i := range s.active {
		if s.r.dets[i].byKey || !s.runs(i, key) {
			continue
		}
		loc := s.r.dets[i].re.FindStringIndex(key)
		if s.r.dets[i].valid != nil {
			loc = s.r.dets[i].firstChecked(key)
		}
		if loc != nil && (cut < 0 || loc[0] < cut) {
			cut = loc[0]
		}
	}
	if cut < 0 {
		return key
	}
	s.changed = true
	return key[:cut] + s.r.keyRepl
}

func (s *scan) value(v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		if out := s.rewrite(v.Str()); out != v.Str() {
			v.SetStr(out)
		}
	case pcommon.ValueTypeMap:
		s.mapping(v.Map())
	case pcommon.ValueTypeSlice:
		sl := v.Slice()
		for i := 0; i < sl.Len(); i++ {
			s.value(sl.At(i))
		}
	}
}

// mapping rewrites values, then keys (rebuilding the map only where a key changed; a
// rewritten key that equals another one replaces it, as OTTL's key rewrite does).
func (s *scan) mapping(m pcommon.Map) {
	renamed := false
	for k, v := range m.All() {
		if !s.byKey(m, k, v) {
			s.value(v)
		}
		renamed = renamed || s.rewriteKey(k) != k
	}
	if !renamed {
		return
	}
	out := pcommon.NewMap()
	out.EnsureCapacity(m.Len())
	for k, v := range m.All() {
		v.CopyTo(out.PutEmpty(s.rewriteKey(k)))
	}
	out.MoveTo(m)
}

// text rewrites a free-text field through get and set.
func (s *scan) field(get func() string, set func(string)) {
	if out := s.rewrite(get()); out != get() {
		set(out)
	}
}

// mend writes each invalid byte as U+FFFD, as Go's regexp reads it.
func mend(str string) string {
	if utf8.ValidString(str) {
		return str
	}
	var b strings.Builder
	for i := 0; i < len(str); {
		r, n := utf8.DecodeRuneInString(str[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(str[i : i+n])
		}
		i += n
	}
	return b.String()
}

// decode turns bytes values (at any depth) into text.
func decode(v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeBytes:
		v.SetStr(mend(string(v.Bytes().AsRaw())))
	case pcommon.ValueTypeMap:
		decodeMap(v.Map())
	case pcommon.ValueTypeSlice:
		sl := v.Slice()
		for i := 0; i < sl.Len(); i++ {
			decode(sl.At(i))
		}
	}
}

func decodeMap(m pcommon.Map) {
	for _, v := range m.All() {
		decode(v)
	}
}
