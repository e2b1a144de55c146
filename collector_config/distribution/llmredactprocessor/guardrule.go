package llmredactprocessor

import "strings"

// summary: every word is key=value (a logfmt line such as "prompt_tokens=12
// completion_tokens=30"): numbers and settings, not free text, so the guard leaves it.
func summary(s string) bool {
	for _, w := range strings.Fields(s) {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" || v == "" || strings.ContainsAny(k, `"'{}[]()<>`) {
			return false
		}
	}
	return true
}
