package llmmetricsconnector // import "github.com/llm-observability-stack/otelcol-llmobs/llmmetricsconnector"

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"time"
)

// Test is one conjunct of a definition's condition, on one attribute of the record (or, for
// op error_status, on the span's status):
//
//	present        the key is set
//	true           the value is the boolean true
//	eq             the value is the string String
//	int_gt, int_eq the value as an integer (OTTL Int) is above / equal to Number
//	double_gt      the value as a float (OTTL Double) is above Number
//	match          the value as text (OTTL String) matches the RE2 Regex
//	nonempty_list  the value is a list with an element
//	error_status   the span's status code is ERROR
//	root           the span has no parent
type Test struct {
	Op     string  `mapstructure:"op"`
	Key    string  `mapstructure:"key"`
	String string  `mapstructure:"string"`
	Number float64 `mapstructure:"number"`
	Regex  string  `mapstructure:"regex"`
}

// Value is what a record adds to its data point:
//
//	one       1 (a count)
//	duration  the span's end minus start, in seconds
//	int       the attribute Key as an integer (OTTL Int)
//	double    the attribute Key as a float (OTTL Double); with Per, divided by Per as a float
//	first     the first element of the list Key, as a float
type Value struct {
	From string `mapstructure:"from"`
	Key  string `mapstructure:"key"`
	Per  string `mapstructure:"per"`
}

// Label is an attribute copied from the record (or the resource); without Default a record
// that lacks it adds nothing to the definition.
type Label struct {
	Key     string  `mapstructure:"key"`
	Default *string `mapstructure:"default"`
}

// Definition of one metric. Definitions of the same Name merge into one metric (the same unit,
// description and kind), as signal_to_metrics does.
type Definition struct {
	Name        string    `mapstructure:"name"`
	Description string    `mapstructure:"description"`
	Unit        string    `mapstructure:"unit"`
	Kind        string    `mapstructure:"kind"` // counter | histogram
	When        []Test    `mapstructure:"when"`
	Value       Value     `mapstructure:"value"`
	Labels      []Label   `mapstructure:"labels"`
	Buckets     []float64 `mapstructure:"buckets"`
}

// Config of the connector. The gateway renders it from telemetry/catalog.py.
type Config struct {
	// FlushInterval: the data points of every batch in an interval are summed and sent once at
	// its end (still deltas), so the metric path downstream runs once per interval rather
	// than once per incoming batch. 0: each batch's points are sent as it arrives.
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	// ResourceLabels: the resource attributes every metric's resource keeps (with their defaults).
	ResourceLabels []Label      `mapstructure:"resource_labels"`
	Spans          []Definition `mapstructure:"spans"`
	Logs           []Definition `mapstructure:"logs"`
	// Prepare: the attributes each signal's records get on the metric path before the
	// definitions read them (bounded labels, defaults, flags).
	Prepare struct {
		Spans *Prepare `mapstructure:"spans"`
		Logs  *Prepare `mapstructure:"logs"`
	} `mapstructure:"prepare"`
}

var ops = map[string]bool{"present": true, "true": true, "eq": true, "int_gt": true, "int_eq": true,
	"double_gt": true, "match": true, "nonempty_list": true, "error_status": true, "root": true}

// Validate checks every definition before the collector starts.
func (c *Config) Validate() error {
	var errs []error
	if c.FlushInterval < 0 {
		errs = append(errs, errors.New("flush_interval: negative"))
	}
	for _, l := range c.ResourceLabels {
		if l.Key == "" {
			errs = append(errs, errors.New("resource_labels: a label has no key"))
		}
	}
	for signal, defs := range map[string][]Definition{"spans": c.Spans, "logs": c.Logs} {
		kinds := map[string]string{}
		for i, d := range defs {
			if err := d.validate(signal); err != nil {
				errs = append(errs, fmt.Errorf("%s[%d] (%s): %w", signal, i, d.Name, err))
			}
			if k, ok := kinds[d.Name]; ok && k != d.Kind {
				errs = append(errs, fmt.Errorf("%s[%d] (%s): kind %s differs from an earlier definition's %s", signal, i, d.Name, d.Kind, k))
			}
			kinds[d.Name] = d.Kind
		}
	}
	for signal, p := range map[string]*Prepare{"spans": c.Prepare.Spans, "logs": c.Prepare.Logs} {
		if err := p.validate(signal); err != nil {
			errs = append(errs, fmt.Errorf("prepare.%s: %w", signal, err))
		}
	}
	return errors.Join(errs...)
}

func (d Definition) validate(signal string) error {
	if d.Name == "" {
		return errors.New("name is empty")
	}
	switch d.Kind {
	case "counter":
		if d.Value.From == "first" || d.Value.From == "duration" {
			return fmt.Errorf("a counter's value cannot be %s", d.Value.From)
		}
	case "histogram":
		if !sort.Float64sAreSorted(d.Buckets) || len(d.Buckets) == 0 {
			return errors.New("a histogram needs buckets in increasing order")
		}
	default:
		return fmt.Errorf("kind %q is not counter or histogram", d.Kind)
	}
	switch d.Value.From {
	case "one":
	case "duration":
		if signal != "spans" {
			return errors.New("duration is only for spans")
		}
	case "int", "double", "first":
		if d.Value.Key == "" {
			return fmt.Errorf("value %s needs a key", d.Value.From)
		}
	default:
		return fmt.Errorf("value from %q is not one, duration, int, double or first", d.Value.From)
	}
	if d.Value.Per != "" && d.Value.From != "double" {
		return errors.New("per is only for a double value")
	}
	for j, t := range d.When {
		if err := t.validate(signal); err != nil {
			return fmt.Errorf("when[%d]: %w", j, err)
		}
	}
	for _, l := range d.Labels {
		if l.Key == "" {
			return errors.New("a label has no key")
		}
	}
	return nil
}

func (t Test) validate(signal string) error {
	if !ops[t.Op] {
		return fmt.Errorf("op %q is unknown", t.Op)
	}
	if t.Op == "error_status" || t.Op == "root" {
		if signal != "spans" {
			return fmt.Errorf("%s is only for spans", t.Op)
		}
		return nil
	}
	if t.Key == "" {
		return fmt.Errorf("op %s needs a key", t.Op)
	}
	if t.Op == "match" {
		if _, err := regexp.Compile(t.Regex); err != nil {
			return err
		}
	}
	return nil
}
