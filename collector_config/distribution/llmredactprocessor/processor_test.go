package llmredactprocessor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
)

func testConfig() *Config {
	return &Config{
		KeyReplacement: "[REDACTED:key]",
		FlagAttribute:  "llmobs.redacted",
		Detectors: []Detector{
			{Name: "sk_key", Regex: `\bsk-[A-Za-z0-9_-]{20,}`, Replacement: "[REDACTED:sk_key]",
				Gates: []Gate{{Regex: `sk-[A-Za-z0-9_-]{20}`}}},
			{Name: "bearer_token", Regex: `(?i)\b(bearer)\s+[A-Za-z0-9._~+/-]{8,}=*`, Replacement: "${1} [REDACTED:bearer_token]",
				Gates: []Gate{{Regex: `bearer\s`, Lower: true}}},
			{Name: "email", Regex: `\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b`,
				Replacement: "[REDACTED:email]", Gates: []Gate{{Regex: `@[A-Za-z0-9-]+\.`}}},
			{Name: "ungated", Regex: `^secret-[0-9]+$`, Replacement: "[REDACTED:ungated]"},
		},
	}
}

const key = "sk-abcdefghijklmnopqrstuvwx"

func TestConfigValidate(t *testing.T) {
	if err := testConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := testConfig()
	bad.Detectors[0].Gates[0].Regex = "("
	if err := bad.Validate(); err == nil {
		t.Fatal("a bad gate must fail validation")
	}
	bad = testConfig()
	bad.KeyReplacement = ""
	if err := bad.Validate(); err == nil {
		t.Fatal("detectors without key_replacement must fail validation")
	}
}

func runTraces(t *testing.T, cfg *Config, td ptrace.Traces) ptrace.Traces {
	t.Helper()
	sink := new(consumertest.TracesSink)
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(typ), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	return sink.AllTraces()[0]
}

func TestSpanEveryPosition(t *testing.T) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("host.note", "mail ops@example.com")
	span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetName("call " + key)
	span.Status().SetMessage("denied: BEARER abcdefghijk")
	a := span.Attributes()
	a.PutStr("plain", "nothing here")
	a.PutStr("v", "key="+key+" and "+key)
	a.PutStr("k "+key, "x")
	a.PutStr("exact", "secret-42")
	a.PutStr("broken", "a\xffb")
	nested := a.PutEmptyMap("nested")
	nested.PutEmptySlice("list").AppendEmpty().SetStr("to ops@example.com")
	nested.PutStr("inner", "Bearer abcdefghijk")
	ev := span.Events().AppendEmpty()
	ev.SetName(key)
	ev.Attributes().PutStr("e", "ops@example.com")
	span.Links().AppendEmpty().Attributes().PutStr("l", key)

	out := runTraces(t, testConfig(), td)
	ors := out.ResourceSpans().At(0)
	got := ors.ScopeSpans().At(0).Spans().At(0)
	want := map[string]string{
		"resource": "mail [REDACTED:email]",
		"name":     "call [REDACTED:sk_key]",
		"status":   "denied: BEARER [REDACTED:bearer_token]",
		"v":        "key=[REDACTED:sk_key] and [REDACTED:sk_key]",
		"plain":    "nothing here",
		"exact":    "[REDACTED:ungated]",
		"broken":   "a\ufffdb",
		"list":     "to [REDACTED:email]",
		"inner":    "Bearer [REDACTED:bearer_token]",
		"event":    "[REDACTED:sk_key]",
		"event.e":  "[REDACTED:email]",
		"link.l":   "[REDACTED:sk_key]",
	}
	oa := got.Attributes()
	gotten := map[string]string{
		"resource": mustStr(t, ors.Resource().Attributes(), "host.note"),
		"name":     got.Name(), "status": got.Status().Message(),
		"v": mustStr(t, oa, "v"), "plain": mustStr(t, oa, "plain"), "exact": mustStr(t, oa, "exact"),
		"broken": mustStr(t, oa, "broken"),
		"event":  got.Events().At(0).Name(), "event.e": mustStr(t, got.Events().At(0).Attributes(), "e"),
		"link.l": mustStr(t, got.Links().At(0).Attributes(), "l"),
	}
	nm, _ := oa.Get("nested")
	l, _ := nm.Map().Get("list")
	gotten["list"] = l.Slice().At(0).Str()
	gotten["inner"] = mustStr(t, nm.Map(), "inner")
	for k, w := range want {
		if gotten[k] != w {
			t.Errorf("%s: got %q, want %q", k, gotten[k], w)
		}
	}
	if _, ok := oa.Get("k " + key); ok {
		t.Error("a key holding a secret must be rewritten")
	}
	if mustStr(t, oa, "k [REDACTED:key]") != "x" {
		t.Error("the rewritten key keeps its value")
	}
	if f, ok := oa.Get("llmobs.redacted"); !ok || !f.Bool() {
		t.Error("a redacted span is flagged")
	}
}

func mustStr(t *testing.T, m pcommon.Map, k string) string {
	t.Helper()
	v, ok := m.Get(k)
	if !ok {
		t.Fatalf("no %q in %v", k, m.AsRaw())
	}
	return v.Str()
}

func TestCleanSpanIsUntouchedAndUnflagged(t *testing.T) {
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetName("chat gpt-4o")
	span.Attributes().PutStr("gen_ai.request.model", "gpt-4o")
	span.Attributes().PutInt("gen_ai.usage.input_tokens", 812)
	span.Links().AppendEmpty()
	before := span.Attributes().AsRaw()
	out := runTraces(t, testConfig(), td).ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	if len(out.Attributes().AsRaw()) != len(before) || mustStr(t, out.Attributes(), "gen_ai.request.model") != "gpt-4o" {
		t.Errorf("clean span changed: %v", out.Attributes().AsRaw())
	}
	if out.Links().Len() != 1 {
		t.Error("links stay without drop_links")
	}
}

func TestGateFoldsLongS(t *testing.T) {
	// (?i)bearer matches "bearer" with U+017F for s? No: there is no s in bearer. Use a gate
	// with an s: the lowered text keeps U+017F, so the gate must count as passed.
	cfg := &Config{KeyReplacement: "[REDACTED:key]", Detectors: []Detector{{
		Name: "pass", Regex: `(?i)\bpass=[a-z]+`, Replacement: "[REDACTED:pass]", Gates: []Gate{{Regex: `pass=`, Lower: true}}}}}
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.Attributes().PutStr("a", "pa\u017fs=hunter")
	out := runTraces(t, cfg, td).ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	if got := mustStr(t, out.Attributes(), "a"); got != "[REDACTED:pass]" {
		t.Errorf("got %q", got)
	}
}

func TestDropLinksAndDecodeBytes(t *testing.T) {
	cfg := &Config{DecodeBytes: true, DropLinks: true}
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetDroppedLinksCount(2)
	span.Links().AppendEmpty()
	span.Links().AppendEmpty()
	span.Attributes().PutEmptyBytes("b").FromRaw([]byte("hi\xff"))
	span.Attributes().PutEmptySlice("s").AppendEmpty().SetEmptyBytes().FromRaw([]byte("deep"))
	out := runTraces(t, cfg, td).ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	if out.Links().Len() != 0 || out.DroppedLinksCount() != 4 {
		t.Errorf("links %d, dropped %d", out.Links().Len(), out.DroppedLinksCount())
	}
	if got := mustStr(t, out.Attributes(), "b"); got != "hi\ufffd" {
		t.Errorf("bytes: %q", got)
	}
	s, _ := out.Attributes().Get("s")
	if s.Slice().At(0).Str() != "deep" {
		t.Error("nested bytes decoded too")
	}
}

func TestLogsBodyAndMetrics(t *testing.T) {
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	body := lr.Body().SetEmptyMap()
	body.PutStr("content", "write to ops@example.com")
	body.PutStr("k "+key, "v")
	sink := new(consumertest.LogsSink)
	p, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(typ), testConfig(), sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	olr := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	if got := mustStr(t, olr.Body().Map(), "content"); got != "write to [REDACTED:email]" {
		t.Errorf("body: %q", got)
	}
	if _, ok := olr.Body().Map().Get("k [REDACTED:key]"); !ok {
		t.Error("a body key holding a secret is rewritten")
	}
	if f, ok := olr.Attributes().Get("llmobs.redacted"); !ok || !f.Bool() {
		t.Error("a redacted log record is flagged")
	}

	md := pmetric.NewMetrics()
	g := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetEmptyGauge()
	dp := g.DataPoints().AppendEmpty()
	dp.Attributes().PutStr("who", "ops@example.com")
	dp.Exemplars().AppendEmpty().FilteredAttributes().PutStr("k", key)
	msink := new(consumertest.MetricsSink)
	mp, err := NewFactory().CreateMetrics(context.Background(), processortest.NewNopSettings(typ), testConfig(), msink)
	if err != nil {
		t.Fatal(err)
	}
	if err := mp.ConsumeMetrics(context.Background(), md); err != nil {
		t.Fatal(err)
	}
	odp := msink.AllMetrics()[0].ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Gauge().DataPoints().At(0)
	if mustStr(t, odp.Attributes(), "who") != "[REDACTED:email]" || mustStr(t, odp.Exemplars().At(0).FilteredAttributes(), "k") != "[REDACTED:sk_key]" {
		t.Errorf("metrics: %v %v", odp.Attributes().AsRaw(), odp.Exemplars().At(0).FilteredAttributes().AsRaw())
	}
	if _, ok := odp.Attributes().Get("llmobs.redacted"); ok {
		t.Error("data points are not flagged")
	}
}

func TestLeadingPositions(t *testing.T) {
	digits := "0123456789"
	for _, c := range []struct {
		re   string
		want []string // the bytes of each leading position
	}{
		{`\.[0-9]{1,3}\.[0-9]`, []string{".", digits}},
		{`sk-[a-c]{2}`, []string{"s", "k", "-", "abc", "abc"}},
		{`\bsk-ant`, []string{"s", "k", "-", "a", "n", "t"}},
		{`A(?:KIA|SIA)x`, []string{"A", "KS", "I", "A", "x"}}, // the parser makes it A[KS]IAx
		// Alternatives of one length, each certain to its end: their positions, then what follows.
		{`_(?:live|test)_[0-9]{2}`, []string{"_", "lt", "ie", "vs", "et", "_", digits, digits}},
		{`(?:ab|cde)f`, []string{"ac", "bd"}}, // lengths differ: the shorter one's positions, then unknown
		{`x(?:ab|cd?)y`, []string{"x", "ac"}}, // d? ends the second alternative's certain positions
		{`(?:ab|)c`, nil},                     // an empty alternative: nothing certain
		{`(?i)ab`, []string{"Aa", "Bb"}},
		{`(?i)as`, []string{"Aa"}}, // s folds with U+017F: no byte set
		{`x[^a]`, []string{"x"}},   // a negated class holds non-ASCII runes
		// After an optional part, one more position: its first bytes or what certainly follows.
		{`ab?c`, []string{"a", "bc"}},
		{`key["']?\s*[:=]`, []string{"k", "e", "y", "\"' \t\n\f\r:="}},
		{`4[0-9]{3}[ -]?[0-9]{4}`, []string{"4", digits, digits, digits, " -" + digits}},
		{`x(?:ab)*y`, []string{"x", "ay"}},
		{`x[0-9]*`, []string{"x"}},   // nothing certain follows
		{`x\s*$`, []string{"x"}},     // an anchor follows: unknown
		{`x(?:é)?y`, []string{"x"}},  // a non-ASCII first byte: unknown
		{`x(?i:k)?y`, []string{"x"}}, // k folds with U+212A
		{`é`, nil},
	} {
		got := leading(c.re)
		if len(got) != len(c.want) {
			t.Errorf("%s: %d positions, want %d", c.re, len(got), len(c.want))
			continue
		}
		for i, set := range got {
			var members []byte
			for b := 0; b < 256; b++ {
				if set.has(byte(b)) {
					members = append(members, byte(b))
				}
			}
			if string(members) != sortString(c.want[i]) {
				t.Errorf("%s: position %d is %q, want %q", c.re, i, members, c.want[i])
			}
		}
	}
}

func sortString(s string) string {
	b := []byte(s)
	for i := range b {
		for j := i + 1; j < len(b); j++ {
			if b[j] < b[i] {
				b[i], b[j] = b[j], b[i]
			}
		}
	}
	return string(b)
}

// The pair and sequence checks never reject a text a gate matches.
func TestPairChecksAreNecessary(t *testing.T) {
	gates := []string{`\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]`, `sk-[A-Za-z0-9_-]{20}`, `-[0-9]{2}-[0-9]{4}`,
		`A(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}`, `@[A-Za-z0-9-]+\.`, ` [2-9][0-9]{2}[ .-][0-9]{4}`,
		`_(?:live|test)_[0-9A-Za-z]{16}`, `k_(?:live|test)_`, `x(?:ab|cde)f`, `key["']?\s*[:=]`, `ken["']?\s*[:=]`,
		`4[0-9][0-9]{2}[ -]?[0-9]{4}`, `5[1-5][0-9]{2}[ -]?[0-9]{4}`}
	texts := []string{"ip 10.0.0.1 ok", "key sk-abcdefghijklmnopqrstuvwxyz", "ssn 123-45-6789", "AKIAABCDEFGHIJKLMNOP",
		"mail a@b.co", "call 555 555-1234", "none of them", "shipped 2024-07-18, ssn 12-3456",
		"stripe sk_live_0123456789abcdefXYZ", "rk_test_ and input_tokens", "xabf xcdef", "okey-dokey-0 key: v",
		"token\n= x", "api_key'\t=x", "card 4111 1111 1111 1111", "card 4111-1111-1111-1111 5500 0000 0000 0004",
		"u-48213 r-5521 a67b223be6f10747d0dc4ab9b22a"}
	for _, g := range gates {
		re := regexp.MustCompile(g)
		cs := checks(g)
		lead := leading(g)
		for _, text := range texts {
			if re.MatchString(text) && !sequenceIn(lead, lead0(lead), []byte(text)) {
				t.Errorf("gate %s matches %q but its sequence was rejected", g, text)
			}
			if sequenceInString(lead, lead0(lead), text) != sequenceIn(lead, lead0(lead), []byte(text)) {
				t.Errorf("gate %s on %q: sequenceInString differs from sequenceIn", g, text)
			}
			var p pairs
			p.fill([]byte(text), false)
			all := true
			for i := range cs {
				all = all && p.any(&cs[i])
			}
			if re.MatchString(text) && !all {
				t.Errorf("gate %s matches %q but its pairs were rejected", g, text)
			}
			if text == "none of them" && all {
				t.Errorf("gate %s: pairs pass a text without them", g)
			}
		}
	}
}

func lead0(lead []byteSet) byte {
	for b := 0; b < 256; b++ {
		if lead[0].has(byte(b)) {
			return byte(b)
		}
	}
	return 0
}

// Where the pairs pass a text the gate cannot match, the sequence check rejects it.
func TestSequenceRejectsWhatThePairsPass(t *testing.T) {
	g, text := `-[0-9]{2}-[0-9]{4}`, []byte("shipped 2024-07-18, ssn 12-3456")
	var p pairs
	p.fill(text, false)
	for _, c := range checks(g) {
		if !p.any(&c) {
			t.Fatalf("the pairs reject %q already", text)
		}
	}
	if regexp.MustCompile(g).Match(text) || sequenceIn(leading(g), '-', text) {
		t.Errorf("gate %s: sequence passes %q", g, text)
	}
	if !sequenceIn(leading(g), '-', []byte("ssn 123-45-6789")) {
		t.Errorf("gate %s: sequence rejects a match", g)
	}
	// Through an alternation: telemetrygen's `input_tokens` holds `_t` (the pairs pass) but no
	// `_live_` or `_test_`.
	g = `_(?:live|test)_[0-9A-Za-z]{16}`
	for text, want := range map[string]bool{"gen_ai.usage.input_tokens": false, "sk_test_0123456789abcdef": true, "sk_test_0123": false, "a_lives_": false} {
		if got := sequenceInString(leading(g), '_', text); got != want {
			t.Errorf("gate %s on %q: sequence %v, want %v", g, text, got, want)
		}
	}
}

func guardConfig(mode string) *Config {
	cfg := testConfig()
	cfg.PreviewCut = 10
	cfg.Hash = HashSHA256
	cfg.Guard = &Guard{MinChars: 20, Mode: mode, PreviewChars: 5, Exempt: `^(?:gen_ai\.|llmobs\.)|^(?:error\.message)$`,
		BodyExempt: []string{"content"}, SpanKeys: []string{"gen_ai.operation.name"}, EventName: `^gen_ai[.]`,
		Attribute: "llmobs.content.guarded"}
	return cfg
}

const story = "this is a long story with many words in it"

func TestGuardRewritesUnknownFreeTextOnLLMSpans(t *testing.T) {
	for mode, want := range map[string]string{
		"hash":    "[CONTENT:sha256:" + sha(story) + "]",
		"drop":    "[CONTENT:dropped]",
		"preview": "[CONTENT:preview] this ",
	} {
		td := ptrace.NewTraces()
		spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
		llm, other := spans.AppendEmpty().Attributes(), spans.AppendEmpty().Attributes()
		for _, a := range []pcommon.Map{llm, other} {
			a.PutStr("z.note", story)
			a.PutStr("b.note", story)
			a.PutStr("error.message", story)                // exempt
			a.PutStr("gen_ai.input.messages", story)        // exempt prefix
			a.PutStr("app.single", strings.Repeat("x", 40)) // one word
			a.PutStr("app.short", "two words")
			a.PutStr("app.preview", "héllo wörld, and more")
		}
		llm.PutStr("gen_ai.operation.name", "chat")
		got := runTraces(t, guardConfig(mode), td).ResourceSpans().At(0).ScopeSpans().At(0).Spans()
		a, o := got.At(0).Attributes(), got.At(1).Attributes()
		for _, k := range []string{"z.note", "b.note"} {
			if v, _ := a.Get(k); v.Str() != want {
				t.Errorf("%s: %s = %q, want %q", mode, k, v.Str(), want)
			}
			if v, _ := o.Get(k); v.Str() != story {
				t.Errorf("%s: a span that is not an LLM call was guarded: %s = %q", mode, k, v.Str())
			}
		}
		for k, want := range map[string]string{"error.message": story, "gen_ai.input.messages": story,
			"app.single": strings.Repeat("x", 40), "app.short": "two words", "llmobs.content.guarded": "b.note",
			"app.preview": "héllo wö"} { // 10 bytes, backed up to a rune start
			if v, _ := a.Get(k); v.Str() != want {
				t.Errorf("%s: %s = %q, want %q", mode, k, v.Str(), want)
			}
		}
		if _, ok := o.Get("llmobs.content.guarded"); ok {
			t.Errorf("%s: a span that is not an LLM call is named guarded", mode)
		}
	}
}

func TestGuardOnGenAIEventsSkipsTheBodyContentFields(t *testing.T) {
	ld := plog.NewLogs()
	logs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for _, name := range []string{"gen_ai.user.message", "app.event"} {
		lr := logs.AppendEmpty()
		lr.SetEventName(name)
		body := lr.Body().SetEmptyMap()
		body.PutStr("content", story)
		body.PutStr("app.extra", story)
	}
	sink := new(consumertest.LogsSink)
	p, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(typ), guardConfig("drop"), sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	got := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	event, other := got.At(0), got.At(1)
	if v, _ := event.Body().Map().Get("app.extra"); v.Str() != "[CONTENT:dropped]" {
		t.Errorf("body app.extra = %q", v.Str())
	}
	if v, _ := event.Body().Map().Get("content"); v.Str() != story {
		t.Errorf("the body's content field is the body policy's, got %q", v.Str())
	}
	if v, _ := event.Attributes().Get("llmobs.content.guarded"); v.Str() != "app.extra" {
		t.Errorf("guarded = %q", v.Str())
	}
	if v, _ := other.Body().Map().Get("app.extra"); v.Str() != story {
		t.Errorf("an event that is not GenAI was guarded: %q", v.Str())
	}
}

func TestMultiWordIsRE2(t *testing.T) {
	re := regexp.MustCompile(`\S\s+\S`)
	for _, s := range []string{"", "a", "a b", " a", "a ", "a\u00a0b", "a\vb", "a\tb", "  a  ", "é é", "a\n\nb", "ab cd"} {
		if got, want := multiWord(s), re.MatchString(s); got != want {
			t.Errorf("multiWord(%q) = %v, RE2 says %v", s, got, want)
		}
	}
}

func TestGuardConfigValidate(t *testing.T) {
	cfg := guardConfig("hash")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.Guard.Mode = "keep"
	if err := cfg.Validate(); err == nil {
		t.Fatal("an unknown guard mode must fail validation")
	}
	cfg = guardConfig("hash")
	cfg.Guard.Exempt = "("
	if err := cfg.Validate(); err == nil {
		t.Fatal("a bad exempt pattern must fail validation")
	}
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// The gates' lowercased text, written into a buffer kept between records, is bytes.ToLower's.
func TestLowerIntoIsToLower(t *testing.T) {
	buf := []byte("LEFTOVER FROM A LONGER RECORD")
	for _, text := range []string{"Bearer ABC-xyz", "", "x", "ÀB Kelvin \u212a and long \u017f", "PASSWORD="} {
		buf = lowerInto(buf[:0], []byte(text))
		if want := string(bytes.ToLower([]byte(text))); string(buf) != want {
			t.Errorf("lowerInto(%q) = %q, want %q", text, buf, want)
		}
	}
	// The text is its own lowercase where needsLower says so.
	for text, want := range map[string]bool{"gen_ai.usage.input_tokens\n812": false, "": false, "@[`{~\x7f": false,
		"okey-dokeY": true, "A": true, "Z": true, "\u017f": true, "\xff": true} {
		if got := needsLower([]byte(text)); got != want || (!got && string(bytes.ToLower([]byte(text))) != text) {
			t.Errorf("needsLower(%q) = %v, want %v", text, got, want)
		}
	}
}

// FuzzLeadingIsNecessary: for any gate that compiles and any text it matches, the pair checks
// and the sequence check (on the text and on the string) pass: they may only reject texts the
// gate cannot match.
func FuzzLeadingIsNecessary(f *testing.F) {
	for _, seed := range [][2]string{{`key["']?\s*[:=]`, "api_key = x"}, {`_(?:live|test)_[0-9]{2}`, "sk_test_42"},
		{`4[0-9]{3}[ -]?[0-9]{4}`, "4111 1111"}, {`x(?:ab)*y`, "xababy"}, {`(?i)bearer\s`, "BEARER x"},
		{`a(?:b|cd?)?e`, "ace"}, {`\.[0-9]{1,3}\.[0-9]`, "1.2.3.4"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, gate, text string) {
		if len(gate) > 64 || len(text) > 256 { // gates come from the config: short, and trusted
			return
		}
		re, err := regexp.Compile(gate)
		if err != nil || !re.MatchString(text) {
			return
		}
		var p pairs
		p.fill([]byte(text), false)
		for _, c := range checks(gate) {
			if !p.any(&c) {
				t.Fatalf("gate %q matches %q but a pair check rejects it", gate, text)
			}
		}
		lead := leading(gate)
		if len(lead) == 0 {
			return
		}
		var firsts []byte
		for b := 0; b < 256; b++ {
			if lead[0].has(byte(b)) {
				firsts = append(firsts, byte(b))
			}
		}
		if len(firsts) != 1 { // the processor uses the sequence only behind a literal first byte
			return
		}
		if !sequenceIn(lead, firsts[0], []byte(text)) || !sequenceInString(lead, firsts[0], text) {
			t.Fatalf("gate %q matches %q but its leading positions reject it", gate, text)
		}
	})
}
