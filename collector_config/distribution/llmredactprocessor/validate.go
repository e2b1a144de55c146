package llmredactprocessor

import (
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Validity checks: RE2 cannot do arithmetic or look around a match, so a detector's regexp
// finds candidates and its check (Detector.Check, from telemetry/detectors.py) decides. A
// candidate that fails is left alone and the search goes on one character after its start, so a
// valid match overlapping it is still found ("db:5432 4111 1111 1111 1111": the Mastercard-shaped
// "5432 4111 1111 1111" fails Luhn, the Visa number after "5432 " passes).

// check: is s[m[0]:m[1]] (m: the match's submatch indexes) what the detector is after.
type check func(s string, m []int) bool

var validity = map[string]check{
	"luhn":   func(s string, m []int) bool { return luhn(digits(s[m[0]:m[1]])) },
	"mod97":  func(s string, m []int) bool { return mod97(strings.ReplaceAll(s[m[0]:m[1]], " ", "")) },
	"ipv4":   ipv4,
	"email":  email,
	"bearer": bearer,
	"phone":  func(s string, m []int) bool { n := len(digits(s[m[0]:m[1]])); return n >= 8 && n <= 15 },
}

func digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// luhn: from the right, every second digit doubled (minus 9 past 9); the sum ends in 0.
func luhn(d string) bool {
	if len(d) < 2 {
		return false
	}
	sum := 0
	for i := 0; i < len(d); i++ {
		n := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			if n *= 2; n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}

// mod97 is ISO 13616's IBAN check: the first four characters moved to the end, letters as
// 10..35, the number mod 97 is 1.
func mod97(iban string) bool {
	if len(iban) < 15 || len(iban) > 34 {
		return false
	}
	rem := 0
	for _, c := range iban[4:] + iban[:4] {
		switch {
		case c >= '0' && c <= '9':
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			rem = (rem*100 + int(c-'A') + 10) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// versionWords precede a dotted number that is a version, not an address.
var versionWords = map[string]bool{"version": true, "ver": true, "v": true, "release": true, "build": true,
	"rev": true, "revision": true, "firmware": true}

// ipv4: four octets 0-255 without leading zeros, not inside a longer dotted number
// (1.2.3.4.5), not followed by a pre-release or build suffix (1.2.3.4-rc1, 1.2.3.4+b7) and not
// right after a version word ("version 1.2.3.4", "build: 10.0.0.1").
func ipv4(s string, m []int) bool {
	for _, o := range strings.Split(s[m[0]:m[1]], ".") {
		if len(o) > 1 && o[0] == '0' || len(o) == 3 && o > "255" {
			return false
		}
	}
	if m[1]+1 < len(s) && s[m[1]] == '.' && s[m[1]+1] >= '0' && s[m[1]+1] <= '9' {
		return false
	}
	if m[0] > 0 && s[m[0]-1] == '.' {
		return false
	}
	if m[1]+1 < len(s) && (s[m[1]] == '-' || s[m[1]] == '+') && (s[m[1]+1]|0x20) >= 'a' && (s[m[1]+1]|0x20) <= 'z' {
		return false
	}
	before := strings.TrimRight(s[:m[0]], " \t:=\"'")
	word := len(before)
	for word > 0 && (before[word-1]|0x20) >= 'a' && (before[word-1]|0x20) <= 'z' {
		word--
	}
	return !versionWords[strings.ToLower(before[word:])]
}

// email: user@host:path is an scp-style remote (git@github.com:org/repo.git), and
// scheme://user@host a URL's user (ssh://git@github.com/org/repo.git), not an address.
func email(s string, m []int) bool {
	if m[0] >= 3 && s[m[0]-3:m[0]] == "://" {
		return false
	}
	if m[1]+1 < len(s) && s[m[1]] == ':' {
		c := s[m[1]+1]
		return c == ' ' || c == '\t' || c == '\n' || c == '"' || c == '\''
	}
	return true
}

// bearer: a token has a digit, a symbol or a capital past its first character; a plain word
// after "bearer" is prose ("the bearer instrument").
func bearer(s string, m []int) bool {
	tok := strings.TrimLeft(s[m[0]+len("bearer"):m[1]], " \t\r\n\f")
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c >= '0' && c <= '9' || strings.IndexByte("._~+/-=", c) >= 0 || i > 0 && c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

// replaceChecked is ReplaceAllString for a detector with a check: only matches that pass it.
func (d *detector) replaceChecked(str string) (string, bool) {
	var out []byte
	last := 0
	for _, m := range d.checked(str, false) {
		out = append(out, str[last:m[0]]...)
		out = d.re.ExpandString(out, d.repl, str, m)
		last = m[1]
	}
	if out == nil {
		return str, false
	}
	return string(append(out, str[last:]...)), true
}

// firstChecked: where the first match that passes the check starts, or nil.
func (d *detector) firstChecked(str string) []int {
	if ms := d.checked(str, true); ms != nil {
		return ms[0]
	}
	return nil
}

// checked: the matches that pass the check, leftmost first, not overlapping (only the first
// with first). After a valid match the search goes on at its end, as FindAll's; after one that
// fails, one rune after its start.
func (d *detector) checked(str string, first bool) [][]int {
	var out [][]int
	for m := d.re.FindStringSubmatchIndex(str); m != nil; {
		next := m[1]
		if !d.valid(str, m) || m[1] == m[0] {
			_, size := utf8.DecodeRuneInString(str[m[0]:])
			next = m[0] + size
		} else if out = append(out, m); first {
			break
		}
		m = d.from(str, next)
	}
	return out
}

// from: the leftmost match starting at or after pos, judged in the whole string (\b sees the
// character before pos): `after` matches that character and then the detector's regexp.
func (d *detector) from(str string, pos int) []int {
	if pos == 0 || pos > len(str) {
		return nil
	}
	_, size := utf8.DecodeLastRuneInString(str[:pos])
	base := pos - size
	m := d.after.FindStringSubmatchIndex(str[base:])
	if m == nil {
		return nil
	}
	_, size = utf8.DecodeRuneInString(str[base+m[0]:])
	m[0] += size
	for i := range m {
		if m[i] >= 0 {
			m[i] += base
		}
	}
	return m
}

// byKey replaces every string under a key a by-key detector matches (a header attribute:
// a string, or a list of them) and reports whether it did. A map's "value" entry is judged by
// the map's "name" entry ({name: "api_key", value: "..."}, tool arguments as OTLP maps).
func (s *scan) byKey(m pcommon.Map, k string, v pcommon.Value) bool {
	if !s.r.anyByKey {
		return false
	}
	name := k
	if k == "value" {
		if n, ok := m.Get("name"); ok && n.Type() == pcommon.ValueTypeStr {
			name = n.Str()
		}
	}
	may := s.maskOf(name)
	for _, i := range s.active {
		d := &s.r.dets[i]
		if !d.byKey || !may.has(i) || !d.re.MatchString(name) {
			continue
		}
		switch v.Type() {
		case pcommon.ValueTypeStr:
			v.SetStr(d.repl)
		case pcommon.ValueTypeSlice:
			for _, e := range v.Slice().All() {
				if e.Type() == pcommon.ValueTypeStr {
					e.SetStr(d.repl)
				} else {
					s.value(e)
				}
			}
		default:
			return false
		}
		s.changed = true
		return true
	}
	return false
}
