package llmnormalizeprocessor // import "github.com/llm-observability-stack/otelcol-llmobs/llmnormalizeprocessor"

import (
	"errors"
	"fmt"
	"regexp"
)

// Rename moves an alias's value to its canonical key.
type Rename struct {
	From string `mapstructure:"from"`
	To   string `mapstructure:"to"`
}

// Indexed renames every key Pattern matches (RE2, anchored) to Replacement (Go's regexp
// expansion: ${1} is the item index).
type Indexed struct {
	Pattern     string `mapstructure:"pattern"`
	Replacement string `mapstructure:"replacement"`
}

// Pair: a value (compared case-insensitively) and what it becomes.
type Pair struct {
	From string `mapstructure:"from"`
	To   string `mapstructure:"to"`
}

// ValueMap rewrites a string value of Key, pair after pair.
type ValueMap struct {
	Key    string `mapstructure:"key"`
	Values []Pair `mapstructure:"values"`
}

// Numeric: keys the gateway computes with. A value that is neither a number in [0, Max) nor
// a string Pattern matches is removed, and Attribute names the key (the last, in order).
type Numeric struct {
	Spans     []string `mapstructure:"spans"`
	Logs      []string `mapstructure:"logs"`
	Pattern   string   `mapstructure:"pattern"`
	Max       float64  `mapstructure:"max"`
	Attribute string   `mapstructure:"attribute"`
}

// Config of the processor. The gateway renders it from telemetry/aliases.py.
type Config struct {
	// Renames, in order (the first alias listed wins; a canonical key already set wins over
	// all): on spans, span events, log records and data points.
	Renames []Rename `mapstructure:"renames"`
	// ResourceRenames: the same on resources (the aliases of resource keys only).
	ResourceRenames []Rename   `mapstructure:"resource_renames"`
	Indexed         []Indexed  `mapstructure:"indexed"`
	Values          []ValueMap `mapstructure:"values"`
	// Lists: keys whose conventional value is a list; a single string there becomes a
	// one-item list (on spans, span events and log records; data-point labels stay strings).
	Lists   []string `mapstructure:"lists"`
	Numeric Numeric  `mapstructure:"numeric"`
}

// Validate compiles every pattern, so a bad one fails at start-up, naming it.
func (c *Config) Validate() error {
	for _, r := range append(append([]Rename{}, c.Renames...), c.ResourceRenames...) {
		if r.From == "" || r.To == "" {
			return errors.New("every rename needs from and to")
		}
	}
	for _, i := range c.Indexed {
		if _, err := regexp.Compile(i.Pattern); err != nil {
			return fmt.Errorf("indexed %q: %w", i.Pattern, err)
		}
	}
	for _, v := range c.Values {
		if v.Key == "" {
			return errors.New("every value map needs a key")
		}
	}
	n := c.Numeric
	if len(n.Spans)+len(n.Logs) > 0 {
		if n.Attribute == "" || n.Max <= 0 {
			return errors.New("numeric: attribute and a positive max are required with keys")
		}
		if _, err := regexp.Compile(n.Pattern); err != nil {
			return fmt.Errorf("numeric: pattern: %w", err)
		}
	}
	return nil
}
