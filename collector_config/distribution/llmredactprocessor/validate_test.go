package llmredactprocessor

import (
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Expected values are worked by hand (sums written out) or are the formats' published examples.

func TestLuhn(t *testing.T) {
	for _, c := range []struct {
		digits string
		want   bool
	}{
		{"4111111111111111", true},  // doubled: seven 1s -> 14, the 4 -> 8; plain: eight 1s: 30
		{"4111111111111112", false}, // 31
		{"79927398713", true},       // ISO/IEC 7812 worked example: 70
		{"79927398710", false},      // 67
		{"378282246310005", true},   // Amex test number
		{"1234567812345678", false}, // 8+5+6+1+4+6+2+2 twice: 68
		{"1234567812345670", true},  // 68 - 8: 60
		{"0", false},
	} {
		if got := luhn(c.digits); got != c.want {
			t.Errorf("luhn(%s) = %v, want %v", c.digits, got, c.want)
		}
	}
}

func TestMod97(t *testing.T) {
	for _, c := range []struct {
		iban string
		want bool
	}{
		{"GB82WEST12345698765432", true}, // ISO 13616 example
		{"DE89370400440532013000", true}, // Bundesbank example
		{"FR1420041010050500013M02606", true},
		{"GB82WEST12345698765431", false}, // last digit changed
		{"GB28WEST12345698765432", false}, // check digits swapped
		{"GB81WEST12345698765432", false}, // remainder 0, not 1 (worked by hand: one less than 82)
		{"AB12CDEF", false},               // too short for any country
		{"GB82west12345698765432", false}, // lower case is not IBAN text
	} {
		if got := mod97(c.iban); got != c.want {
			t.Errorf("mod97(%s) = %v, want %v", c.iban, got, c.want)
		}
	}
}

// at: the submatch indexes of sub's first occurrence in s.
func at(t *testing.T, s, sub string) []int {
	t.Helper()
	i := strings.Index(s, sub)
	if i < 0 {
		t.Fatalf("%q not in %q", sub, s)
	}
	return []int{i, i + len(sub)}
}

func TestContextChecks(t *testing.T) {
	for _, c := range []struct {
		check, s, match string
		want            bool
	}{
		{"ipv4", "client ip 192.168.10.24 blocked", "192.168.10.24", true},
		{"ipv4", "server 10.0.0.1", "10.0.0.1", true}, // "server" ends in "ver" but is not a version word
		{"ipv4", "0.0.0.0", "0.0.0.0", true},
		{"ipv4", "255.255.255.255", "255.255.255.255", true},
		{"ipv4", "version 1.2.3.4", "1.2.3.4", false},
		{"ipv4", "Version: 10.0.0.1", "10.0.0.1", false},
		{"ipv4", `"release": "4.3.2.1"`, "4.3.2.1", false},
		{"ipv4", "1.2.3.4.5", "1.2.3.4", false},     // a longer dotted number
		{"ipv4", "v2.1.2.3.4", "1.2.3.4", false},    // inside one, after its dot
		{"ipv4", "10.0.0.256", "10.0.0.256", false}, // octet past 255
		{"ipv4", "10.0.300.1", "10.0.300.1", false},
		{"ipv4", "10.0.0.01", "10.0.0.01", false},       // leading zero
		{"ipv4", "1.2.3.4-rc1", "1.2.3.4", false},       // pre-release suffix
		{"ipv4", "10.0.0.1-10.0.0.9", "10.0.0.1", true}, // a range of addresses
		{"email", "git@github.com:org/repo.git", "git@github.com", false},
		{"email", "deploy@gitlab.example.com:group/app.git", "deploy@gitlab.example.com", false},
		{"email", "ssh://git@github.com/org/repo.git", "git@github.com", false},
		{"email", "://git@github.com/org/repo.git", "git@github.com", false}, // "://" at the very start (m[0] == 3)
		{"email", "contact jane@example.com: later", "jane@example.com", true},
		{"email", "jane@example.com", "jane@example.com", true},
		{"email", "to=alice%40example.com&x=1", "alice%40example.com", true},
		{"bearer", "the bearer instrument", "bearer instrument", false},
		{"bearer", "Bearer Instrument", "Bearer Instrument", false}, // a capital first letter only
		{"bearer", "Authorization: Bearer abc123DEF456", "Bearer abc123DEF456", true},
		{"bearer", "bearer abcdefGhij", "bearer abcdefGhij", true},
		{"bearer", "Bearer abcdefgh.ijk", "Bearer abcdefgh.ijk", true},
		{"phone", "+44 7700 900123", "+44 7700 900123", true}, // 12 digits
		{"phone", "+33 6 12 34 56 78", "+33 6 12 34 56 78", true},
		{"phone", "+1 2 3", "+1 2 3", false},                                 // 3 digits
		{"phone", "+1 234 567 890 123 45", "+1 234 567 890 123 45", true},    // 15: the most E.164 allows
		{"phone", "+1 234 567", "+1 234 567", false},                         // 7
		{"phone", "+1 234 567 890 123 456", "+1 234 567 890 123 456", false}, // 16: past E.164
	} {
		if got := validity[c.check](c.s, at(t, c.s, c.match)); got != c.want {
			t.Errorf("%s(%q) = %v, want %v", c.check, c.s, got, c.want)
		}
	}
}

func checkedConfig() *Config {
	return &Config{KeyReplacement: "[REDACTED:key]", Detectors: []Detector{
		{Name: "secret_header", Regex: `(?i)(?:^|[._-])api[_-]key$`, Replacement: "[REDACTED:secret_header]", ByKey: true,
			Gates: []Gate{{Regex: `api-key`, Lower: true}}},
		{Name: "credit_card", Regex: `\b4[0-9]{3}(?:[ -]?[0-9]{4}){3}\b`, Replacement: "[REDACTED:credit_card]", Check: "luhn",
			Gates: []Gate{{Regex: `4[0-9]{3}`}}},
		{Name: "ipv4", Regex: `\b[0-9]{1,3}(?:\.[0-9]{1,3}){3}\b`, Replacement: "[REDACTED:ipv4]", Check: "ipv4",
			Gates: []Gate{{Regex: `\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]`}}},
	}}
}

func TestChecksAndKeysInTheProcessor(t *testing.T) {
	if err := checkedConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := checkedConfig()
	bad.Detectors[1].Check = "crc32"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "crc32") {
		t.Fatalf("an unknown check must fail validation naming it: %v", err)
	}
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	a := span.Attributes()
	a.PutStr("cards", "4111 1111 1111 1111 and 4111 1111 1111 1112")
	a.PutStr("ips", "version 1.2.3.4 from 10.1.2.3")
	a.PutStr("k 4111111111111112", "non-Luhn key stays")
	a.PutStr("http.request.header.api-key", "0123456789abcdef0123456789abcdef")
	a.PutEmptySlice("http.response.header.x-api-key").AppendEmpty().SetStr("abc")
	a.PutStr("api-key.note", "not a header value")
	pair := a.PutEmptyMap("tool.args")
	pair.PutStr("name", "x-api-key")
	pair.PutStr("value", "sekrit-value")
	plain := a.PutEmptyMap("tool.other")
	plain.PutStr("name", "city")
	plain.PutStr("value", "Paris")
	got := runTraces(t, checkedConfig(), td).ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	want := map[string]string{
		"cards":                       "[REDACTED:credit_card] and 4111 1111 1111 1112",
		"ips":                         "version 1.2.3.4 from [REDACTED:ipv4]",
		"k 4111111111111112":          "non-Luhn key stays",
		"http.request.header.api-key": "[REDACTED:secret_header]",
		"api-key.note":                "not a header value",
	}
	for k, w := range want {
		if g := mustStr(t, got, k); g != w {
			t.Errorf("%s: got %q, want %q", k, g, w)
		}
	}
	if p, _ := got.Get("tool.args"); mustStr(t, p.Map(), "value") != "[REDACTED:secret_header]" {
		t.Error("a {name, value} map: the value under a credential name is replaced")
	}
	if p, _ := got.Get("tool.other"); mustStr(t, p.Map(), "value") != "Paris" {
		t.Error("a {name, value} map under another name stays")
	}
	if l, _ := got.Get("http.response.header.x-api-key"); l.Slice().At(0).Str() != "[REDACTED:secret_header]" {
		t.Errorf("a header list: got %q", l.Slice().At(0).Str())
	}
}

func TestGuardLeavesKeyValueSummaries(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"prompt_tokens=1234 completion_tokens=5678 total_tokens=6912 cached_tokens=0", true},
		{"model=gpt-4o-mini temperature=0.2 max_tokens=512", true},
		{"prompt_tokens=12 and then the user asked about the contract", false},
		{"Summarise the contract for me, please, in three bullet points", false},
		{"a= b=1", false},
	} {
		if got := summary(c.s); got != c.want {
			t.Errorf("summary(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

func TestEventNameFromTheFieldOrTheAttribute(t *testing.T) {
	lr := plog.NewLogRecord()
	lr.Attributes().PutStr("event.name", "gen_ai.user.message")
	if got := eventName(lr); got != "gen_ai.user.message" {
		t.Errorf("attribute: got %q", got)
	}
	lr.SetEventName("gen_ai.choice")
	if got := eventName(lr); got != "gen_ai.choice" {
		t.Errorf("the field wins: got %q", got)
	}
}

func TestGuardLLMSpanByMarkerOrContentKey(t *testing.T) {
	g := newGuard(&Guard{MinChars: 8, Mode: "hash", Exempt: "^$", EventName: "^gen_ai[.]",
		SpanKeys: []string{"gen_ai.operation.name", "mlflow.spanInputs.length"}}, newHasher(HashSHA256, ""))
	for _, c := range []struct {
		key  string
		want bool
	}{{"gen_ai.operation.name", true}, {"mlflow.spanInputs.length", true}, {"app.length", false}, {"mlflow.spanInputs", false}} {
		m := pcommon.NewMap()
		m.PutStr("other", "x")
		m.PutStr(c.key, "1")
		if got := g.llmSpan(m); got != c.want {
			t.Errorf("%s: got %v, want %v", c.key, got, c.want)
		}
	}
}

// A candidate that fails its check may hide a valid match that starts inside it: the search
// resumes one character after the failed candidate's start, not after its end, in values and keys.
func TestValidMatchInsideAFailedCandidate(t *testing.T) {
	cfg := checkedConfig()
	cfg.Detectors[1].Regex = `\b(?:4[0-9]{3}|5[1-5][0-9]{2})(?:[ -]?[0-9]{4}){3}\b`
	cfg.Detectors[1].Gates = []Gate{{Regex: `[45][0-9]{3}`}}
	td := ptrace.NewTraces()
	a := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().Attributes()
	a.PutStr("after-port", "db:5432 4111 1111 1111 1111")         // "5432 4111 1111 1111" fails Luhn
	a.PutStr("after-phone", "+447911123456 4111 1111 1111 1111")  // "4479 1112 3456 4111" fails Luhn
	a.PutStr("no-boundary", "order 55554111111111111111 shipped") // inside a longer number: no \b, stays
	a.PutStr("dotted", "1.2.3.4.5")                               // every 4-octet run is inside a longer number
	a.PutStr("k 5432 4111 1111 1111 1111", "v")
	got := runTraces(t, cfg, td).ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	want := map[string]string{
		"after-port":  "db:5432 [REDACTED:credit_card]",
		"after-phone": "+447911123456 [REDACTED:credit_card]",
		"no-boundary": "order 55554111111111111111 shipped",
		"dotted":      "1.2.3.4.5",
	}
	for k, w := range want {
		if g := mustStr(t, got, k); g != w {
			t.Errorf("%s: got %q, want %q", k, g, w)
		}
	}
	if _, ok := got.Get("k 5432 [REDACTED:key]"); !ok || got.Len() != len(want)+1 {
		var keys []string
		got.Range(func(k string, _ pcommon.Value) bool { keys = append(keys, k); return true })
		t.Errorf("the key is cut where the valid match starts: %q", keys)
	}
}

// A key holding secrets of two detectors is cut where the earliest match starts, whichever
// detector runs first: here the later detector (ipv4) matches before the earlier one (card).
func TestKeyCutAtTheEarliestMatchOfAnyDetector(t *testing.T) {
	td := ptrace.NewTraces()
	a := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().Attributes()
	a.PutStr("from 10.1.2.3 card 4111 1111 1111 1111", "v")
	got := runTraces(t, checkedConfig(), td).ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	if _, ok := got.Get("from [REDACTED:key]"); !ok || got.Len() != 1 {
		var keys []string
		got.Range(func(k string, _ pcommon.Value) bool { keys = append(keys, k); return true })
		t.Errorf("keys: %q", keys)
	}
}
