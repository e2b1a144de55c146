"""Hand-listed mutations of the project's Go components: (file, exact text, replacement, the bug
it plants). Each is applied alone in a scratch copy and the component's `go test ./...` runs;
the text must occur exactly once in the file. Chosen as plausible one-line slips in the code
that decides what leaves the gateway: checks, boundaries, order, the content policy, prices."""
from __future__ import annotations

D = "collector_config/distribution/"
REDACT, NORMALIZE, METRICS, COST, SPANLOGS = (D + "llmredactprocessor/", D + "llmnormalizeprocessor/",
                                              D + "llmmetricsconnector/", D + "llmcostprocessor/", D + "spanlogsconnector/")

GO_MUTANTS: tuple[tuple[str, str, str, str], ...] = (
    # llmredact: validity checks
    (REDACT + "validate.go", "return sum%10 == 0", "return sum%10 != 1", "Luhn accepts sums ending in 2-9 too"),
    (REDACT + "validate.go", "return rem == 1", "return rem <= 1", "mod-97 accepts remainder 0"),
    (REDACT + "validate.go", "return n >= 8 && n <= 15", "return n >= 8 && n < 15", "phone: 15 digits refused"),
    (REDACT + "validate.go", 'len(o) == 3 && o > "255"', 'len(o) == 3 && o > "256"', "ipv4: octet 256 accepted"),
    (REDACT + "validate.go", "next = m[0] + size", "next = m[1]", "a failed candidate skipped whole (the overlap retry lost)"),
    (REDACT + "validate.go", "if m[0] >= 3 && s[m[0]-3:m[0]] == \"://\" {", "if m[0] >= 4 && s[m[0]-3:m[0]] == \"://\" {",
     "email: a URL's user right after the scheme at offset 3 taken for an address"),
    # llmredact: keys and content policy
    (REDACT + "redact.go", "if loc != nil && (cut < 0 || loc[0] < cut) {", "if loc != nil && cut < 0 {",
     "a key is cut at the first detector's match, not the earliest"),
    (REDACT + "policy.go", "\tif len(s) <= n {\n\t\treturn s\n\t}", "\tif len(s) < n {\n\t\treturn s\n\t}",
     "preview cut: a value exactly n bytes long is cut (no-op: s[:n] is s)"),
    (REDACT + "policy.go", "for n > 0 && !utf8.RuneStart(s[n]) {", "for n > 1 && !utf8.RuneStart(s[n]) {",
     "preview cut may split a rune at the start"),
    (REDACT + "policy.go", 'if c.Mode == "preview" && c.Cut < 1 {', 'if c.Mode == "preview" && c.Cut < 0 {',
     "a preview of 0 characters accepted"),
    (REDACT + "policy.go", "if key[i] == '.' && key[i+1] >= '0' && key[i+1] <= '9' {",
     "if key[i] == '.' && key[i+1] >= '1' && key[i+1] <= '9' {", "indexed content key .0. not recognised"),
    # llmnormalize
    (NORMALIZE + "processor.go", "if strings.EqualFold(s, p.From) {", "if s == p.From {", "value maps case-sensitive"),
    (NORMALIZE + "processor.go", "\t\tif !present(m.Get(x.To)) {", "\t\tif present(m.Get(x.To)) {",
     "alias overwrites a canonical key already set"),
    (NORMALIZE + "processor.go", "if c := key[i+1]; c >= '0' && c <= '9' {", "if c := key[i+1]; c >= '1' && c <= '9' {",
     "indexed keys with index 0 not renamed"),
    # llmmetrics
    (METRICS + "derive.go", "return i > int64(t.Number)", "return i >= int64(t.Number)", "int_gt counts equality"),
    (METRICS + "derive.go", "return ok && f > t.Number", "return ok && f >= t.Number", "double_gt counts equality"),
    (METRICS + "derive.go", "return v.Type() == pcommon.ValueTypeBool && v.Bool()", "return v.Type() == pcommon.ValueTypeBool",
     "'true' condition holds for false"),
    (METRICS + "derive.go", "return v.Type() == pcommon.ValueTypeSlice && v.Slice().Len() > 0",
     "return v.Type() == pcommon.ValueTypeSlice", "nonempty_list holds for an empty list"),
    (METRICS + "derive.go", "return span != nil && span.ParentSpanID().IsEmpty()", "return span != nil",
     "'root' holds for every span"),
    # llmcost
    (COST + "processor.go", "float64((in-cached)*p.Input)", "float64(in*p.Input)", "cached tokens billed twice"),
    (COST + "processor.go", "float64(out*p.Output))/1000000.0", "float64(out*p.Input))/1000000.0",
     "output tokens at the input price"),
    (COST + "processor.go", "\tif _, ok := get(attrs, c.cfg.CostKey); ok {\n\t\treturn\n\t}", "",
     "an app-reported cost overwritten"),
    (COST + "processor.go", "\tif price < 0 {\n\t\tattrs.PutBool(c.cfg.UnpricedKey, true)",
     "\tif price < 0 {\n\t\tattrs.PutBool(c.cfg.UnpricedKey, false)", "unpriced calls not flagged"),
    # spanlogs
    (SPANLOGS + "spanlogs.go", "\t\t\t\t\tif name == \"\" {\n\t\t\t\t\t\tname = event.Name()",
     "\t\t\t\t\tif name != \"\" {\n\t\t\t\t\t\tname = event.Name()", "span-event records lose the event's name"),
    (SPANLOGS + "spanlogs.go", "\tif logs.LogRecordCount() == 0 {", "\tif logs.LogRecordCount() < 0 {",
     "empty batches sent on"),
)
