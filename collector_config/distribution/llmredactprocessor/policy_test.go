package llmredactprocessor

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
)

func contentConfig(mode string) *Config {
	cfg := testConfig()
	cfg.PreviewCut = 8
	cfg.Hash = HashSHA256
	cfg.Content = &Content{Mode: mode, Cut: 40, Keys: []string{"gen_ai.input.messages", "llm.prompts"},
		KeyRegex:  `^(?:gen_ai\.input\.messages|llm\.prompts)(?:\.[0-9]+\.(?:content|role)(?:\.[0-9]+)?)?$`,
		Events:    []EventContent{{Name: `^gen_ai\.user\.message$`, Fields: []string{"content"}}},
		EventName: `^gen_ai[.]`, BodyFields: []string{"content", "message"}, BodyKey: "llmobs.body"}
	return cfg
}

const prompt = "please mail ops@example.com the report" // 38 bytes

func TestContentPolicyOnSpansEventsAndResources(t *testing.T) {
	list := `["a prompt","` + prompt + `"]`
	for _, mode := range []string{"hash", "drop", "preview"} {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("gen_ai.input.messages", prompt)
		span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		a := span.Attributes()
		a.PutStr("gen_ai.input.messages", prompt)
		l := a.PutEmptySlice("llm.prompts")
		l.AppendEmpty().SetStr("a prompt")
		l.AppendEmpty().SetStr(prompt)
		a.PutInt("gen_ai.input.messages.0.content", 42) // a per-item key: no length, hashed as text
		a.PutStr("gen_ai.input.messages.x", "not content")
		a.PutInt("gen_ai.usage.input_tokens", 7)
		ev := span.Events().AppendEmpty()
		ev.SetName("gen_ai.user.message")
		ev.Attributes().PutStr("content", prompt)
		other := span.Events().AppendEmpty()
		other.SetName("exception")
		other.Attributes().PutStr("content", "stays")

		out := runTraces(t, contentConfig(mode), td).ResourceSpans().At(0)
		got := out.ScopeSpans().At(0).Spans().At(0).Attributes().AsRaw()
		want := map[string]any{"gen_ai.input.messages.length": int64(38), "llm.prompts.length": int64(len(list)),
			"gen_ai.input.messages.x": "not content", "gen_ai.usage.input_tokens": int64(7), "llmobs.redacted": true}
		if mode != "drop" {
			want["gen_ai.input.messages.sha256"] = sha(prompt) // of what the app sent: before the detectors
			want["llm.prompts.sha256"] = sha(list)
			want["gen_ai.input.messages.0.content.sha256"] = sha("42")
		}
		if mode == "preview" { // cut to 40 bytes, redacted, then cut to PreviewCut
			want["gen_ai.input.messages.preview"] = "please m"
			want["llm.prompts.preview"] = `["a prom`
			want["gen_ai.input.messages.0.content.preview"] = "42"
		} else {
			delete(want, "llmobs.redacted") // nothing left to redact
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: span\n got %v\nwant %v", mode, got, want)
		}
		res := out.Resource().Attributes().AsRaw()
		if !reflect.DeepEqual(res, map[string]any{"gen_ai.input.messages.length": int64(38)}) {
			t.Errorf("%s: resource %v", mode, res)
		}
		evs := out.ScopeSpans().At(0).Spans().At(0).Events()
		e := evs.At(0).Attributes().AsRaw()
		if e["content.length"] != int64(38) || e["content"] != nil || (e["content.sha256"] == sha(prompt)) != (mode != "drop") ||
			(e["content.preview"] == "please m") != (mode == "preview") {
			t.Errorf("%s: event %v", mode, e)
		}
		if s := evs.At(1).Attributes().AsRaw(); !reflect.DeepEqual(s, map[string]any{"content": "stays"}) {
			t.Errorf("%s: another event %v", mode, s)
		}
	}
}

func runLogs(t *testing.T, cfg *Config, ld plog.Logs) plog.LogRecordSlice {
	t.Helper()
	sink := new(consumertest.LogsSink)
	p, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(typ), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	return sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
}

func TestContentPolicyOnGenAIEventBodies(t *testing.T) {
	for _, mode := range []string{"hash", "drop", "preview"} {
		ld := plog.NewLogs()
		records := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		str := records.AppendEmpty()
		str.SetEventName("gen_ai.user.message")
		str.Body().SetStr(prompt)
		m := records.AppendEmpty()
		m.SetEventName("gen_ai.choice")
		body := m.Body().SetEmptyMap()
		body.PutStr("content", prompt)
		body.PutEmptySlice("message").AppendEmpty().SetStr("x")
		body.PutStr("role", "assistant")
		plain := records.AppendEmpty()
		plain.Body().SetStr(prompt)

		out := runLogs(t, contentConfig(mode), ld)
		s, mb := out.At(0), out.At(1)
		switch mode {
		case "preview":
			if s.Body().Str() != "please m" || mb.Body().Map().AsRaw()["content"] != "please m" {
				t.Errorf("preview: %q %v", s.Body().Str(), mb.Body().Map().AsRaw())
			}
		default:
			if s.Body().Str() != "[CONTENT:"+mode+"]" {
				t.Errorf("%s: string body %q", mode, s.Body().Str())
			}
			if !reflect.DeepEqual(mb.Body().Map().AsRaw(), map[string]any{"role": "assistant"}) {
				t.Errorf("%s: map body %v", mode, mb.Body().Map().AsRaw())
			}
		}
		// The whole string body's hash and length, in every mode (a preview is not the text).
		if sa := s.Attributes().AsRaw(); sa["llmobs.body.sha256"] != sha(prompt) || sa["llmobs.body.length"] != int64(38) {
			t.Errorf("%s: string body's hash and length %v", mode, sa)
		}
		a := mb.Attributes().AsRaw()
		if a["llmobs.body.content.sha256"] != sha(prompt) || a["llmobs.body.message.sha256"] != sha(`["x"]`) {
			t.Errorf("%s: body field hashes %v", mode, a)
		}
		if got := out.At(2).Body().Str(); got != "please mail [REDACTED:email] the report" {
			t.Errorf("%s: a log that is no GenAI event keeps its body (redacted): %q", mode, got)
		}
	}
}

func TestContentCutKeepsRunes(t *testing.T) {
	if got := cut("añb", 2); got != "a" {
		t.Errorf("cut inside a rune: %q", got)
	}
	if got := cut("ab", 5); got != "ab" {
		t.Errorf("%q", got)
	}
	if got := cut("abc", 3); got != "abc" { // exactly n bytes: kept whole
		t.Errorf("%q", got)
	}
	if got := cut("€uro", 2); got != "" { // the first rune is 3 bytes: nothing of it
		t.Errorf("cut inside the first rune: %q", got)
	}
}

func TestContentConfigValidate(t *testing.T) {
	for want, edit := range map[string]func(*Content){
		"mode \"keep\"": func(c *Content) { c.Mode = "keep" },
		"cut must be":   func(c *Content) { c.Cut = 0 },
		"keys and":      func(c *Content) { c.Keys = nil },
		"key_regex":     func(c *Content) { c.KeyRegex = "(" },
		"events[0]":     func(c *Content) { c.Events[0].Name = "(" },
	} {
		cfg := contentConfig("preview")
		edit(cfg.Content)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
	if err := contentConfig("hash").Validate(); err != nil {
		t.Error(err)
	}
}

// The processor gets batches from concurrent receivers: the policy must keep no per-call state
// (and the HMACs it pools are reset between uses).
func TestContentPolicyUnderConcurrentBatches(t *testing.T) {
	key := []byte("concurrent-batches-key-0123456789")
	plain := func(s string) string { return sha(s) }
	keyed := func(s string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(s))
		return hex.EncodeToString(m.Sum(nil))
	}
	for _, c := range []struct {
		hash string
		sum  func(string) string
	}{{HashSHA256, plain}, {HashHMAC, keyed}} {
		cfg := contentConfig("hash")
		if c.hash == HashHMAC {
			cfg = hmacConfig(t, "hash", key)
		}
		concurrentBatches(t, cfg, "."+c.hash, c.sum)
	}
}

func concurrentBatches(t *testing.T, cfg *Config, suffix string, sum func(string) string) {
	sink := new(consumertest.LogsSink)
	p, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(typ), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		go func() {
			for i := 0; i < 200; i++ {
				ld := plog.NewLogs()
				lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
				for j := 0; j < 20; j++ {
					lr.Attributes().PutStr("app.k"+string(rune('a'+j)), "v")
				}
				lr.Attributes().PutStr("gen_ai.input.messages", prompt)
				lr.Attributes().PutStr("llm.prompts", "p")
				if err := p.ConsumeLogs(context.Background(), ld); err != nil {
					errs <- err
					return
				}
				a := lr.Attributes().AsRaw()
				if a["gen_ai.input.messages"+suffix] != sum(prompt) || a["llm.prompts"+suffix] != sum("p") || a["gen_ai.input.messages"] != nil {
					errs <- fmt.Errorf("batch %d: %v", i, a)
					return
				}
			}
			errs <- nil
		}()
	}
	for w := 0; w < 8; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// The policy's hashes are put after the detectors: a digest the gateway made is never scanned
// (nor rewritten, nor a reason to flag the record), while the same text sent by the app is.
func TestPolicyHashesAreNotScanned(t *testing.T) {
	cfg := contentConfig("hash")
	cfg.Detectors = append(cfg.Detectors, Detector{Name: "hex64", Regex: `\b[0-9a-f]{64}\b`, Replacement: "[REDACTED:hex64]"})
	digest := sha(prompt)
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.Attributes().PutStr("gen_ai.input.messages", prompt)
	ev := span.Events().AppendEmpty()
	ev.SetName("gen_ai.user.message")
	ev.Attributes().PutStr("content", prompt)
	clean := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().AppendEmpty()
	clean.Attributes().PutStr("gen_ai.input.messages", "no secret here")
	clean.Attributes().PutStr("app.digest", digest)
	got := runTraces(t, cfg, td).ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	if a := got.At(0).Attributes().AsRaw(); a["gen_ai.input.messages.sha256"] != digest {
		t.Errorf("the span's own hash was scanned: %v", a)
	}
	if e := got.At(0).Events().At(0).Attributes().AsRaw(); e["content.sha256"] != digest {
		t.Errorf("the event's own hash was scanned: %v", e)
	}
	if a := got.At(1).Attributes().AsRaw(); a["app.digest"] != "[REDACTED:hex64]" || a["gen_ai.input.messages.sha256"] != sha("no secret here") {
		t.Errorf("the app's own attribute must still be scanned: %v", a)
	}

	ld := plog.NewLogs()
	records := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	str := records.AppendEmpty()
	str.SetEventName("gen_ai.user.message")
	str.Body().SetStr("a short question")
	m := records.AppendEmpty()
	m.SetEventName("gen_ai.choice")
	m.Body().SetEmptyMap().PutStr("content", "a short answer")
	out := runLogs(t, cfg, ld)
	if a := out.At(0).Attributes().AsRaw(); a["llmobs.body.sha256"] != sha("a short question") || a["llmobs.redacted"] != nil {
		t.Errorf("the body's hash was scanned: %v", a)
	}
	if a := out.At(1).Attributes().AsRaw(); a["llmobs.body.content.sha256"] != sha("a short answer") || a["llmobs.redacted"] != nil {
		t.Errorf("the map body's hash was scanned: %v", a)
	}
}
