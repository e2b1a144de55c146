package llmredactprocessor

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
)

// Known answers from RFC 4231 (HMAC-SHA-256 test vectors), not from running this code.
var (
	rfcKey1  = bytes.Repeat([]byte{0x0b}, 20) // test case 1
	rfcData1 = "Hi There"
	rfcMac1  = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
	rfcKey6  = bytes.Repeat([]byte{0xaa}, 131) // test case 6: a key longer than the block
	rfcData6 = "Test Using Larger Than Block-Size Key - Hash Key First"
	rfcMac6  = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
)

func keyFile(t *testing.T, key []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "content_hash_key")
	if err := os.WriteFile(path, key, 0o400); err != nil {
		t.Fatal(err)
	}
	return path
}

func loaded(t *testing.T, key []byte) *hasher {
	t.Helper()
	h := newHasher(HashHMAC, keyFile(t, key))
	if err := h.load(); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHMACKnownAnswers(t *testing.T) {
	if got := loaded(t, rfcKey1).sum(rfcData1); got != rfcMac1 {
		t.Errorf("RFC 4231 case 1: %s", got)
	}
	if got := loaded(t, rfcKey6).sum(rfcData6); got != rfcMac6 {
		t.Errorf("RFC 4231 case 6: %s", got)
	}
	// A key file written by `echo` ends in a newline; it is not part of the key.
	if got := loaded(t, append(append([]byte{}, rfcKey1...), "\r\n"...)).sum(rfcData1); got != rfcMac1 {
		t.Errorf("trailing newline kept in the key: %s", got)
	}
	if got := newHasher(HashSHA256, "").sum("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("sha256 (FIPS 180-2 'abc'): %s", got)
	}
}

func hmacConfig(t *testing.T, mode string, key []byte) *Config {
	cfg := contentConfig(mode)
	cfg.Hash, cfg.HashKeyFile = HashHMAC, keyFile(t, key)
	return cfg
}

// started runs the processor as the collector does: Start (which reads the key), then batches.
func startedTraces(t *testing.T, cfg *Config, td ptrace.Traces) ptrace.Traces {
	t.Helper()
	sink := new(consumertest.TracesSink)
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(typ), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	if err := p.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	return sink.AllTraces()[0]
}

func startedLogs(t *testing.T, cfg *Config, ld plog.Logs) plog.LogRecordSlice {
	t.Helper()
	sink := new(consumertest.LogsSink)
	p, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(typ), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	if err := p.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	return sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
}

func contentSpan(text string) ptrace.Traces {
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.Attributes().PutStr("gen_ai.input.messages", text)
	ev := span.Events().AppendEmpty()
	ev.SetName("gen_ai.user.message")
	ev.Attributes().PutStr("content", text)
	return td
}

func TestHMACOnEveryContentPosition(t *testing.T) {
	for _, mode := range []string{"hash", "preview"} {
		span := startedTraces(t, hmacConfig(t, mode, rfcKey1), contentSpan(rfcData1)).ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
		a := span.Attributes().AsRaw()
		if a["gen_ai.input.messages.hmac"] != rfcMac1 || a["gen_ai.input.messages.sha256"] != nil || a["gen_ai.input.messages"] != nil {
			t.Errorf("%s: span %v", mode, a)
		}
		if e := span.Events().At(0).Attributes().AsRaw(); e["content.hmac"] != rfcMac1 || e["content.sha256"] != nil {
			t.Errorf("%s: event %v", mode, e)
		}

		ld := plog.NewLogs()
		records := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		str := records.AppendEmpty()
		str.SetEventName("gen_ai.user.message")
		str.Body().SetStr(rfcData1)
		m := records.AppendEmpty()
		m.SetEventName("gen_ai.choice")
		m.Body().SetEmptyMap().PutStr("content", rfcData1)
		out := startedLogs(t, hmacConfig(t, mode, rfcKey1), ld)
		if s := out.At(0).Attributes().AsRaw(); s["llmobs.body.hmac"] != rfcMac1 || s["llmobs.body.length"] != int64(8) {
			t.Errorf("%s: string body %v", mode, s)
		}
		if mb := out.At(1).Attributes().AsRaw(); mb["llmobs.body.content.hmac"] != rfcMac1 {
			t.Errorf("%s: map body %v", mode, mb)
		}
	}
}

func TestHMACInTheGuardsMark(t *testing.T) {
	cfg := guardConfig("hash")
	cfg.Hash, cfg.HashKeyFile = HashHMAC, keyFile(t, rfcKey6)
	td := ptrace.NewTraces()
	a := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().Attributes()
	a.PutStr("gen_ai.operation.name", "chat")
	a.PutStr("app.note", rfcData6)
	got := startedTraces(t, cfg, td).ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	if v, _ := got.Get("app.note"); v.Str() != "[CONTENT:hmac:"+rfcMac6+"]" {
		t.Errorf("guard: %q", v.Str())
	}
}

// One key: the same text gives the same hash in every batch and every processor (joins hold);
// another key gives another (a rotation breaks them); neither is the plain SHA-256.
func TestHMACStableWithinAKeyDifferentAcrossKeys(t *testing.T) {
	hashOf := func(cfg *Config) string {
		a := startedTraces(t, cfg, contentSpan(prompt)).ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
		v, _ := a.Get("gen_ai.input.messages.hmac")
		return v.Str()
	}
	keyA, keyB := []byte("stack-a-content-key-0123456789ab"), []byte("stack-b-content-key-0123456789ab")
	one := hmacConfig(t, "hash", keyA)
	first, again := hashOf(one), hashOf(one)
	other := hashOf(hmacConfig(t, "hash", keyA)) // another processor, another file, the same key
	rotated := hashOf(hmacConfig(t, "hash", keyB))
	if len(first) != 64 || first != again || first != other {
		t.Errorf("one key: %q %q %q", first, again, other)
	}
	if rotated == first || len(rotated) != 64 {
		t.Errorf("another key gave %q, the first %q", rotated, first)
	}
	if first == sha(prompt) || rotated == sha(prompt) {
		t.Error("an HMAC equals the plain SHA-256")
	}
}

func TestHashKeyFileIsReadAtStart(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("fifteen-bytes-k\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ file, want string }{
		"missing": {filepath.Join(dir, "absent"), "hash_key_file: open " + filepath.Join(dir, "absent")},
		"short":   {short, "hash_key_file " + short + ": the key has 15 bytes; at least 16 wanted"},
	} {
		cfg := contentConfig("hash")
		cfg.Hash, cfg.HashKeyFile = HashHMAC, c.file
		if err := cfg.Validate(); err != nil { // validation never reads the file
			t.Fatalf("%s: %v", name, err)
		}
		p, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(typ), cfg, new(consumertest.LogsSink))
		if err != nil {
			t.Fatal(err)
		}
		err = p.Start(context.Background(), componenttest.NewNopHost())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: start: %v, want %q", name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "fifteen") {
			t.Errorf("%s: the error shows the key: %v", name, err)
		}
	}
	// Batches before a start (the key not read) are refused, never hashed with no key.
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(typ), hmacConfig(t, "hash", rfcKey1), new(consumertest.TracesSink))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ConsumeTraces(context.Background(), contentSpan("x")); err == nil || !strings.Contains(err.Error(), "not loaded") {
		t.Errorf("a batch before start: %v", err)
	}
}

func TestHashConfigValidate(t *testing.T) {
	for want, edit := range map[string]func(*Config){
		`hash "md5": want hmac or sha256`: func(c *Config) { c.Hash = "md5" },
		`hash "": want hmac or sha256`:    func(c *Config) { c.Hash = "" },
		"hash hmac needs hash_key_file":   func(c *Config) { c.Hash, c.HashKeyFile = HashHMAC, "" },
		"hash_key_file is for hash hmac":  func(c *Config) { c.Hash, c.HashKeyFile = HashSHA256, "/k" },
	} {
		for _, cfg := range []*Config{contentConfig("hash"), guardConfig("hash")} {
			edit(cfg)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v", want, err)
			}
		}
	}
	cfg := testConfig() // no content policy, no guard: nothing is hashed, no hash setting needed
	if err := cfg.Validate(); err != nil {
		t.Error(err)
	}
}
