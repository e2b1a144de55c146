package llmredactprocessor

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
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
	guard     *guard    // nil: none
	content   *policy   // nil: none
	hash      *hasher   // nil: neither content policy nor guard
	scans     sync.Pool // of *scan: each keeps its cache of masks between batches
}

func newRedactor(cfg *Config) *redactor {
	var h *hasher
	if cfg.Content != nil || cfg.Guard != nil {
		h = newHasher(cfg.Hash, cfg.HashKeyFile)
	}
	r := &redactor{keyRepl: cfg.KeyReplacement, flag: cfg.FlagAttribute, decode: cfg.DecodeBytes, dropLinks: cfg.DropLinks,
		cut: cfg.PreviewCut, guard: newGuard(cfg.Guard, h), content: newPolicy(cfg.Content, h), hash: h}
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
	r.scans.New = func() any { return &scan{r: r} }
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

// matchLowered: the gate on one string; low is s lowercased, folded: s holds a long s.
func (g *gate) matchLowered(s, low string, folded bool) bool {
	if g.lower {
		if folded {
			return true
		}
		s = low
	}
	if g.prefix != "" && !strings.Contains(s, g.prefix) {
		return false
	}
	if g.lead != nil && !sequenceInString(g.lead, g.prefix[0], s) {
		return false
	}
	return g.whole || g.re.MatchString(s)
}

// maxDetectors: a mask holds one bit per detector (Validate refuses more).
const maxDetectors = 256

// mask: the detectors that may match one string (bit i: one of detector i's gates matches it).
type mask [maxDetectors / 64]uint64

func (m *mask) set(i int)      { m[i>>6] |= 1 << (i & 63) }
func (m *mask) has(i int) bool { return m[i>>6]&(1<<(i&63)) != 0 }
func (m *mask) or(o mask) {
	for i := range m {
		m[i] |= o[i]
	}
}

// Strings up to cacheLen bytes keep their mask from record to record (keys and most values
// repeat across a batch and between batches); the cache is emptied when it reaches cacheMax.
// Longer ones (content, messages) are checked once per record.
const (
	cacheLen = 256
	cacheMax = 8192
)

// scan holds one record's work (and, across records, the masks of strings seen before).
type scan struct {
	r       *redactor
	cache   map[string]mask // valid UTF-8 strings of at most cacheLen bytes
	once    map[string]mask // this record's longer strings
	pending []string        // this record's strings with no mask yet
	text    []byte          // pending, joined by newlines
	lower   []byte          // text lowercased, the buffer kept from record to record
	hit     []bool          // per gate, on text
	one     []bool          // per gate, on one string
	seen    *pairs
	all     mask  // the union of the record's strings' masks
	active  []int // detectors in all
	invalid bool
	changed bool     // a detector rewrote something
	hashes  []hashed // the content policy's hashes of the record, put after its detectors
}

func (s *scan) reset() {
	s.all, s.active, s.pending, s.invalid, s.changed = mask{}, s.active[:0], s.pending[:0], false, false
	if len(s.once) > 0 {
		clear(s.once)
	}
}

// add notes one of the record's strings: its mask if known, else it waits for collected().
func (s *scan) add(str string) {
	if m, ok := s.cache[str]; ok {
		s.all.or(m)
		return
	}
	if !utf8.ValidString(str) {
		s.invalid = true
		str = mend(str)
	}
	s.pending = append(s.pending, str)
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

// collected: which detectors may fire on the record; false: it is clean and valid, nothing
// to do. The strings with no mask yet are joined and every gate is checked once on that
// text; a gate that fails there fails on each of them, so only the gates that passed are
// checked string by string.
func (s *scan) collected() bool {
	if len(s.pending) > 0 {
		s.text = s.text[:0]
		for _, str := range s.pending {
			s.text = append(append(s.text, str...), '\n')
		}
		s.gateText()
		for _, str := range s.pending {
			m := s.compute(str, s.hit)
			s.keep(str, m)
			s.all.or(m)
		}
	}
	for i := range s.r.dets {
		if s.all.has(i) {
			s.active = append(s.active, i)
		}
	}
	return len(s.active) > 0 || s.invalid
}

// maskOf: the detectors whose gates match str (valid UTF-8, or mended).
func (s *scan) maskOf(str string) mask {
	if m, ok := s.cache[str]; ok {
		return m
	}
	if m, ok := s.once[str]; ok {
		return m
	}
	m := s.compute(str, nil)
	s.keep(str, m)
	return m
}

// keep remembers str's mask: in the cache when it is short and valid UTF-8 (add() takes a
// cached string as valid), else for this record only.
func (s *scan) keep(str string, m mask) {
	if len(str) > cacheLen || !utf8.ValidString(str) {
		if s.once == nil {
			s.once = map[string]mask{}
		}
		s.once[str] = m
		return
	}
	if s.cache == nil || len(s.cache) >= cacheMax {
		s.cache = make(map[string]mask, 256)
	}
	s.cache[strings.Clone(str)] = m // a copy: the key must not keep the request's buffer alive
}

// compute: the detectors with a gate that matches str, trying only the gates marked in
// passed (nil: all of them).
func (s *scan) compute(str string, passed []bool) mask {
	low, folded, lowered := str, false, false
	s.one = s.one[:0]
	for i := range s.r.gates {
		g := &s.r.gates[i]
		if passed != nil && !passed[i] {
			s.one = append(s.one, false)
			continue
		}
		if g.lower && !lowered {
			lowered, folded = true, strings.Contains(str, longS)
			if needsLowerString(str) {
				low = strings.ToLower(str)
			}
		}
		s.one = append(s.one, g.matchLowered(str, low, folded))
	}
	var m mask
	for i, d := range s.r.dets {
		run := len(d.gates) == 0
		for _, g := range d.gates {
			run = run || s.one[g]
		}
		if run {
			m.set(i)
		}
	}
	return m
}

// gateText checks every gate on text (the pending strings), through its pair table first.
func (s *scan) gateText() {
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

func needsLowerString(text string) bool {
	for i := 0; i < len(text); i++ {
		if b := text[i]; b-'A' < 26 || b > unicode.MaxASCII {
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

// rewrite returns str with invalid bytes mended and every active detector applied in order.
func (s *scan) rewrite(str string) string {
	if s.invalid {
		str = mend(str)
	}
	m := s.maskOf(str)
	for _, i := range s.active {
		if !m.has(i) {
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
	m := s.maskOf(key)
	for _, i := range s.active {
		if s.r.dets[i].byKey || !m.has(i) {
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
