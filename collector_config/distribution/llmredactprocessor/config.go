package llmredactprocessor // import "github.com/llm-observability-stack/otelcol-llmobs/llmredactprocessor"

import (
	"errors"
	"fmt"
	"regexp"
)

// Gate is a cheap necessary condition of a detector (RE2), checked once on the text of all of
// a record's strings before the detector runs on any of them.
type Gate struct {
	Regex string `mapstructure:"regex"`
	// Lower: Regex is the case-sensitive body of a (?i) gate, checked on the lowercased text.
	// Go's regexp skips to a literal prefix, and a (?i) pattern has none.
	Lower bool `mapstructure:"lower"`
}

// Detector rewrites every match of Regex in a string by Replacement (Go's regexp expansion:
// ${1} keeps a group).
type Detector struct {
	Name        string `mapstructure:"name"`
	Regex       string `mapstructure:"regex"`
	Replacement string `mapstructure:"replacement"`
	// Gates: empty means the detector runs on every string.
	Gates []Gate `mapstructure:"gates"`
	// Check: a validity check every match must pass (validate.go: luhn, mod97, ipv4, ...).
	Check string `mapstructure:"check"`
	// ByKey: Regex matches attribute keys; every string under such a key is replaced.
	ByKey bool `mapstructure:"by_key"`
}

// Config of the processor. The gateway renders it from telemetry/detectors.py.
type Config struct {
	// DecodeBytes turns every bytes value into UTF-8 text (each invalid byte as U+FFFD), so
	// the content policy and the detectors see it as a string.
	DecodeBytes bool `mapstructure:"decode_bytes"`
	// Detectors run in this order on every string value, key and free-text field.
	Detectors []Detector `mapstructure:"detectors"`
	// KeyReplacement: a key a detector matches is cut at the first match and this appended.
	KeyReplacement string `mapstructure:"key_replacement"`
	// FlagAttribute is set to true on a span or log record a detector changed (empty: none).
	FlagAttribute string `mapstructure:"flag_attribute"`
	// DropLinks removes span links and counts them in dropped_links_count.
	DropLinks bool `mapstructure:"drop_links"`
	// PreviewCut: after the detectors, every top-level `*.preview` string of a span, span
	// event or log record is cut to this many bytes (0: none).
	PreviewCut int `mapstructure:"preview_cut"`
	// Guard: after the cut, free text under keys no table knows becomes content.
	Guard *Guard `mapstructure:"guard"`
	// Content: the content policy, after decoding and before the detectors (policy.go); in
	// preview mode a GenAI log event's body is cut to PreviewCut after the detectors too.
	Content *Content `mapstructure:"content"`
	// Hash: how the content policy and the guard hash content (hash.go): hmac, HMAC-SHA256
	// under the key in HashKeyFile (read at start), or sha256, the plain SHA-256. Required
	// with Content or Guard; it also names the attributes (`<key>.hmac`, `<key>.sha256`).
	Hash        string `mapstructure:"hash"`
	HashKeyFile string `mapstructure:"hash_key_file"`
}

// Guard: on LLM spans and GenAI log events, a top-level string of at least MinChars runes with
// whitespace between two words, under a key Exempt does not match, is hashed, dropped or
// previewed (Mode); Attribute names the first such key, in key order.
type Guard struct {
	MinChars int    `mapstructure:"min_chars"`
	Mode     string `mapstructure:"mode"`
	// PreviewChars: runes a guarded value keeps in preview mode.
	PreviewChars int    `mapstructure:"preview_chars"`
	Exempt       string `mapstructure:"exempt"`
	// BodyExempt: a map body's own content fields, which the body policy handles.
	BodyExempt []string `mapstructure:"body_exempt"`
	// SpanKeys: an LLM span has one of these attributes.
	SpanKeys []string `mapstructure:"span_keys"`
	// EventName matches a GenAI log event's event_name.
	EventName string `mapstructure:"event_name"`
	Attribute string `mapstructure:"attribute"`
}

// Validate compiles every pattern, so a bad one fails at start-up, naming the detector.
func (c *Config) Validate() error {
	if len(c.Detectors) > 0 && c.KeyReplacement == "" {
		return errors.New("key_replacement is required with detectors")
	}
	if c.Content != nil {
		if err := c.Content.validate(); err != nil {
			return err
		}
	}
	if c.Content != nil || c.Guard != nil {
		if err := validateHash(c.Hash, c.HashKeyFile); err != nil {
			return err
		}
	}
	if g := c.Guard; g != nil {
		if g.MinChars < 1 {
			return errors.New("guard: min_chars must be at least 1")
		}
		if g.Mode != "hash" && g.Mode != "drop" && g.Mode != "preview" {
			return fmt.Errorf("guard: mode %q: want hash, drop or preview", g.Mode)
		}
		for name, re := range map[string]string{"exempt": g.Exempt, "event_name": g.EventName} {
			if _, err := regexp.Compile(re); err != nil {
				return fmt.Errorf("guard: %s: %w", name, err)
			}
		}
	}
	if len(c.Detectors) > maxDetectors {
		return fmt.Errorf("%d detectors: at most %d", len(c.Detectors), maxDetectors)
	}
	for _, d := range c.Detectors {
		if d.Name == "" {
			return errors.New("every detector needs a name")
		}
		if _, err := regexp.Compile(d.Regex); err != nil {
			return fmt.Errorf("detector %q: regex: %w", d.Name, err)
		}
		if _, ok := validity[d.Check]; d.Check != "" && !ok {
			return fmt.Errorf("detector %q: check %q: unknown", d.Name, d.Check)
		}
		if d.ByKey && (d.Check != "" || len(d.Gates) == 0) {
			return fmt.Errorf("detector %q: by_key wants gates and no check", d.Name)
		}
		for _, g := range d.Gates {
			if _, err := regexp.Compile(g.Regex); err != nil {
				return fmt.Errorf("detector %q: gate %q: %w", d.Name, g.Regex, err)
			}
		}
	}
	return nil
}
