package llmredactprocessor

import (
	"bytes"
	"regexp/syntax"
	"strings"
	"unicode"
)

// A gate's first few characters, as byte sets, give a cheaper necessary condition than the
// gate itself: each pair of neighbours must occur as two adjacent bytes of the text. One
// pass over the text marks every adjacent byte pair it holds (a 64 Ki-bit table); a gate
// whose pairs are not all marked cannot match, and its regexp (which steps from one
// occurrence of its first byte to the next, slow where that byte is common) does not run.

type byteSet [4]uint64

func (s *byteSet) add(b byte)      { s[b>>6] |= 1 << (b & 63) }
func (s *byteSet) has(b byte) bool { return s[b>>6]&(1<<(b&63)) != 0 }

type pairs struct {
	bits  [1 << 10]uint64
	ascii bool // the text has no byte above 0x7f
}

func (p *pairs) fill(text []byte, lower bool) {
	p.bits, p.ascii = [1 << 10]uint64{}, true
	for i := 0; i < len(text); i++ {
		if text[i] > unicode.MaxASCII {
			p.ascii = false
		}
		if i+1 < len(text) {
			a, b := text[i], text[i+1]
			p.mark(a, b)
			if la, lb := lowerASCII(a), lowerASCII(b); lower && (la != a || lb != b) {
				p.mark(la, lb)
			}
		}
	}
}

func (p *pairs) mark(a, b byte) {
	i := uint32(a)<<8 | uint32(b)
	p.bits[i>>6] |= 1 << (i & 63)
}

// pairCheck: some byte of first followed by some byte of next.
type pairCheck struct {
	first []byte
	next  byteSet
}

func (p *pairs) any(c *pairCheck) bool {
	for _, a := range c.first {
		for w, word := range c.next {
			i := uint32(a)<<8 | uint32(w)<<6
			if p.bits[i>>6]&word != 0 {
				return true
			}
		}
	}
	return false
}

// sequenceIn: every leading position at one place in text, found from each occurrence of the
// first position's byte (the pairs say only that each neighbouring pair is somewhere: a gate
// such as -[0-9]{2}-[0-9]{4} passes them on any text with a date in it).
func sequenceIn(lead []byteSet, first byte, text []byte) bool {
	for p := 0; p+len(lead) <= len(text); p++ {
		i := bytes.IndexByte(text[p:], first)
		if i < 0 {
			return false
		}
		p += i
		j := 1
		for j < len(lead) && p+j < len(text) && lead[j].has(text[p+j]) {
			j++
		}
		if j == len(lead) {
			return true
		}
	}
	return false
}

// sequenceInString is sequenceIn on one string.
func sequenceInString(lead []byteSet, first byte, s string) bool {
	for p := 0; p+len(lead) <= len(s); p++ {
		i := strings.IndexByte(s[p:], first)
		if i < 0 {
			return false
		}
		p += i
		j := 1
		for j < len(lead) && p+j < len(s) && lead[j].has(s[p+j]) {
			j++
		}
		if j == len(lead) {
			return true
		}
	}
	return false
}

// checks of a gate: one per pair of neighbouring leading positions.
func checks(re string) []pairCheck {
	lead := leading(re)
	var out []pairCheck
	for i := 0; i+1 < len(lead); i++ {
		c := pairCheck{next: lead[i+1]}
		for b := 0; b < 256; b++ {
			if lead[i].has(byte(b)) {
				c.first = append(c.first, byte(b))
			}
		}
		out = append(out, c)
	}
	return out
}

func lowerASCII(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// leading returns the byte sets of the first characters every match of re starts with, as
// far as they are certain and ASCII (a non-ASCII or case-folded s/k, which Unicode folds with
// other runes, ends them).
func leading(re string) []byteSet {
	parsed, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return nil
	}
	out, _ := positions(parsed.Simplify(), nil)
	return out
}

// positions appends re's certain leading positions; more is false where what follows is unknown.
func positions(re *syntax.Regexp, out []byteSet) (_ []byteSet, more bool) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			set, ok := runeSet(r, re.Flags&syntax.FoldCase != 0)
			if !ok {
				return out, false
			}
			out = append(out, set)
		}
		return out, true
	case syntax.OpCharClass:
		var set byteSet
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i+1] > unicode.MaxASCII {
				return out, false
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				set.add(byte(r))
			}
		}
		return append(out, set), true
	case syntax.OpCapture:
		return positions(re.Sub[0], out)
	case syntax.OpConcat:
		for i, sub := range re.Sub {
			if sub.Op == syntax.OpQuest || sub.Op == syntax.OpStar || (sub.Op == syntax.OpRepeat && sub.Min == 0) {
				// The next byte is the optional part's first or what follows it: one more
				// position where something certain follows in this concatenation.
				if set, empty, ok := firstOf(re.Sub[i:]); ok && !empty {
					out = append(out, set)
				}
				return out, false
			}
			var ok bool
			if out, ok = positions(sub, out); !ok {
				return out, false
			}
		}
		return out, true
	case syntax.OpPlus:
		out, _ = positions(re.Sub[0], out)
		return out, false
	case syntax.OpRepeat:
		if re.Min >= 1 {
			out, _ = positions(re.Sub[0], out)
		}
		return out, false
	case syntax.OpAlternate:
		// Every match goes through one alternative: position i is the union of the
		// alternatives' position i, as far as all of them have one. What follows is known only
		// where every alternative is certain to its end and all have the same length.
		var alts [][]byteSet
		n, more := -1, true
		for _, sub := range re.Sub {
			p, all := positions(sub, nil)
			if n < 0 || len(p) < n {
				n = len(p)
			}
			more = more && all && (len(alts) == 0 || len(p) == len(alts[0]))
			alts = append(alts, p)
		}
		if n <= 0 {
			return out, false
		}
		for i := 0; i < n; i++ {
			var set byteSet
			for _, p := range alts {
				for w := range set {
					set[w] |= p[i][w]
				}
			}
			out = append(out, set)
		}
		return out, more
	case syntax.OpEmptyMatch, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return out, true
	}
	return out, false
}

// firstOf: the bytes a match of the sequence subs starts with, and whether all of subs may
// match empty (then what follows the sequence decides); ok is false where it is not known
// (non-ASCII, an anchor). Each element is looked at once.
func firstOf(subs []*syntax.Regexp) (set byteSet, empty, ok bool) {
	for _, sub := range subs {
		f, e, k := first(sub)
		if !k {
			return set, false, false
		}
		for w := range set {
			set[w] |= f[w]
		}
		if !e {
			return set, false, true
		}
	}
	return set, true, true
}

// first: the bytes a match of re starts with, and whether re matches empty.
func first(re *syntax.Regexp) (set byteSet, empty, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return set, true, true
		}
		set, ok = runeSet(re.Rune[0], re.Flags&syntax.FoldCase != 0)
		return set, false, ok
	case syntax.OpCharClass:
		pos, _ := positions(re, nil)
		if len(pos) != 1 {
			return set, false, false
		}
		return pos[0], false, true
	case syntax.OpCapture, syntax.OpPlus:
		return first(re.Sub[0])
	case syntax.OpQuest, syntax.OpStar:
		set, _, ok = first(re.Sub[0])
		return set, true, ok
	case syntax.OpRepeat:
		set, empty, ok = first(re.Sub[0])
		return set, empty || re.Min == 0, ok
	case syntax.OpConcat:
		return firstOf(re.Sub)
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			f, e, k := first(sub)
			if !k {
				return set, false, false
			}
			for w := range set {
				set[w] |= f[w]
			}
			empty = empty || e
		}
		return set, empty, true
	case syntax.OpEmptyMatch, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return set, true, true
	}
	return set, false, false
}

func runeSet(r rune, fold bool) (byteSet, bool) {
	var set byteSet
	if r > unicode.MaxASCII {
		return set, false
	}
	set.add(byte(r))
	if fold {
		l := unicode.ToLower(r)
		if l == 's' || l == 'k' { // folded with U+017F and U+212A
			return set, false
		}
		set.add(byte(l))
		set.add(byte(unicode.ToUpper(r)))
	}
	return set, true
}
