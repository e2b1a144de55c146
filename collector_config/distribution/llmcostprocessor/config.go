package llmcostprocessor // import "github.com/llm-observability-stack/otelcol-llmobs/llmcostprocessor"

import (
	"errors"
	"fmt"
	"regexp"
)

// Price of one model (Model, exact) and of the dated family Pattern names (RE2, full match),
// in USD per million tokens.
type Price struct {
	Model       string  `mapstructure:"model"`
	Pattern     string  `mapstructure:"pattern"`
	Input       float64 `mapstructure:"input"`
	CachedInput float64 `mapstructure:"cached_input"`
	Output      float64 `mapstructure:"output"`
}

// Config of the processor. The gateway renders it from the price table (collector_config/cost.py).
type Config struct {
	// ModelKeys: the priced model is the value of the first of these attributes the span has
	// (gen_ai.response.model, what was billed, then gen_ai.request.model).
	ModelKeys []string `mapstructure:"model_keys"`
	// InputTokens (cached ones included), OutputTokens and CachedTokens: counts read as
	// numbers (an int, a double, a bool or a numeric string); absent or unreadable is 0.
	InputTokens  string `mapstructure:"input_tokens"`
	OutputTokens string `mapstructure:"output_tokens"`
	CachedTokens string `mapstructure:"cached_tokens"`
	// An LLM span: its OperationKey's text matches OperationRegex (RE2). Only those are priced.
	OperationKey   string `mapstructure:"operation_key"`
	OperationRegex string `mapstructure:"operation_regex"`
	// CostKey gets the cost of an LLM span that has none; UnpricedKey is true where no price
	// matches its model.
	CostKey     string `mapstructure:"cost_key"`
	UnpricedKey string `mapstructure:"unpriced_key"`
	// Prices, in order: the first exact model wins, then the first pattern.
	Prices []Price `mapstructure:"prices"`
}

// Validate refuses a config that could not price anything, naming the field.
func (c *Config) Validate() error {
	var errs []error
	if len(c.ModelKeys) == 0 {
		errs = append(errs, errors.New("model_keys: at least one key is required"))
	}
	for name, v := range map[string]string{"input_tokens": c.InputTokens, "output_tokens": c.OutputTokens,
		"cached_tokens": c.CachedTokens, "operation_key": c.OperationKey, "cost_key": c.CostKey, "unpriced_key": c.UnpricedKey} {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required", name))
		}
	}
	if _, err := regexp.Compile(c.OperationRegex); err != nil {
		errs = append(errs, fmt.Errorf("operation_regex: %w", err))
	}
	for i, p := range c.Prices {
		if p.Model == "" && p.Pattern == "" {
			errs = append(errs, fmt.Errorf("prices[%d]: model or pattern is required", i))
		}
		if p.Pattern != "" {
			if _, err := regexp.Compile(p.Pattern); err != nil {
				errs = append(errs, fmt.Errorf("prices[%d] (%s): pattern: %w", i, p.Model, err))
			}
		}
	}
	return errors.Join(errs...)
}
