package pipelines

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// suggest returns the candidate closest to name by edit distance when it is close enough to be a
// plausible typo (at most a third of the name's length, and at most 3 edits), else "".
func suggest(name string, candidates []string) string {
	best, bestD := "", 4
	for _, c := range candidates {
		d := editDistance(name, c)
		if d < bestD && d <= (len(name)+2)/3+1 {
			best, bestD = c, d
		}
	}
	return best
}

// didYouMean formats a suggestion sentence, or returns "" when there is none.
func DidYouMean(name string, candidates []string) string {
	if s := suggest(name, candidates); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b over bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// unsupportedName extracts the quoted name from HCL's "An argument named "x" ..." and "Blocks of
// type "x" ..." details.
var unsupportedName = regexp.MustCompile(`^(An argument named|Blocks of type) "([^"]+)"`)

// betterSuggestions replaces HCL's own "Did you mean" (the first close name, not the closest) with
// the closest valid name from schema, and adds one where HCL had none.
func betterSuggestions(diags hcl.Diagnostics, schema *hcl.BodySchema) hcl.Diagnostics {
	var names []string
	for _, a := range schema.Attributes {
		names = append(names, a.Name)
	}
	for _, b := range schema.Blocks {
		names = append(names, b.Type)
	}
	for _, d := range diags {
		if d.Summary != "Unsupported argument" && d.Summary != "Unsupported block type" {
			continue
		}
		m := unsupportedName.FindStringSubmatch(d.Detail)
		if m == nil {
			continue
		}
		detail, _, _ := strings.Cut(d.Detail, " Did you mean")
		detail = strings.TrimSuffix(detail, ".") + "."
		if d.Summary == "Unsupported block type" {
			detail = fmt.Sprintf("Blocks of type %q are not expected here.", m[2])
		}
		d.Detail = detail + DidYouMean(m[2], names)
		if !strings.Contains(d.Detail, "Did you mean") {
			d.Detail += " Valid names here: " + strings.Join(names, ", ") + "."
		}
	}
	return diags
}
