package runner

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pcamflow/pcamflow/cache"
)

// why explains, change by change, how the components of a key differ from the previous run's.
// prev is nil when the stage never ran in this workspace. Changes of one sort that are many (the
// outputs of 100,000 upstream nodes, the content of 100,000 inputs) are summarised in one line
// that counts them and names the first few, so that a reason stays readable and short.
func why(prev, cur map[string]string) []string {
	if prev == nil {
		return []string{"no earlier run"}
	}
	return whySorted(cache.SortedComponents(prev), cur)
}

// whySorted is why with the previous run's components sorted by name (as the store's ref index
// keeps them: no map to build per node).
func whySorted(prev []cache.Component, cur map[string]string) []string {
	// The names of both, in order: a merge of prev's with cur's, sorted.
	names := make([]string, 0, len(cur))
	for k := range cur {
		names = append(names, k)
	}
	slices.Sort(names)
	type component struct {
		name, old, now string
		hadOld, hasNow bool
	}
	next := func(i, j int) (component, int, int) {
		switch {
		case j >= len(names) || i < len(prev) && prev[i].Name < names[j]:
			return component{name: prev[i].Name, old: prev[i].Value, hadOld: true}, i + 1, j
		case i >= len(prev) || names[j] < prev[i].Name:
			return component{name: names[j], now: cur[names[j]], hasNow: true}, i, j + 1
		}
		return component{name: names[j], old: prev[i].Value, now: cur[names[j]], hadOld: true, hasNow: true}, i + 1, j + 1
	}
	type change struct{ group, subject, line string }
	var changes []change
	count := map[string]int{}
	for i, j := 0, 0; i < len(prev) || j < len(names); {
		var c component
		c, i, j = next(i, j)
		k, old, now, hadOld, hasNow := c.name, c.old, c.now, c.hadOld, c.hasNow
		if hadOld && hasNow && old == now {
			continue
		}
		g, subject := groupOf(k, hadOld, hasNow)
		if g != "" {
			count[g]++
		}
		changes = append(changes, change{group: g, subject: subject})
		if g == "" || count[g] <= maxListed {
			changes[len(changes)-1].line = describe(k, old, now, hadOld, hasNow)
		}
	}
	if len(changes) == 0 {
		return []string{"cache entry missing"}
	}
	var out []string
	done := map[string]bool{}
	for _, c := range changes {
		if c.group == "" || count[c.group] <= maxListed {
			out = append(out, c.line)
			continue
		}
		if done[c.group] {
			continue
		}
		done[c.group] = true
		var first []string
		for _, d := range changes {
			if d.group == c.group {
				if first = append(first, d.subject); len(first) == listedInSummary {
					break
				}
			}
		}
		out = append(out, summarize(c.group, count[c.group], countPrefix(cur, c.group), first))
	}
	return out
}

// maxListed is how many changes of one sort a reason lists one by one; more are summarised.
const maxListed = 5

// listedInSummary is how many changes a summary names.
const listedInSummary = 3

// groupOf returns the sort of change of a component that can be numerous (upstream outputs,
// inputs, scripts) and what it names, or "" for the others (parameters, version, seed), which
// are few and always listed.
func groupOf(k string, hadOld, hasNow bool) (group, subject string) {
	kind, name, _ := strings.Cut(k, ":")
	if kind != "dep" && kind != "input" && kind != "script" && kind != "part" {
		return "", ""
	}
	switch {
	case !hadOld:
		return kind + "+", name
	case !hasNow:
		return kind + "-", name
	}
	return kind, name
}

// countPrefix counts the components of cur of a group's kind ("dep" for "dep+"), for "N of M".
func countPrefix(cur map[string]string, group string) int {
	prefix := strings.TrimRight(group, "+-") + ":"
	n := 0
	for k := range cur {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

// summarize renders n changes of one group, naming the first ones.
func summarize(group string, n, of int, first []string) string {
	what := map[string]string{
		"dep": "outputs changed", "dep+": "outputs now read", "dep-": "outputs no longer read",
		"input": "inputs whose content changed", "input+": "new inputs", "input-": "inputs no longer read",
		"script": "scripts whose content changed", "script+": "new scripts", "script-": "scripts no longer read",
		"part": "seed nodes whose outputs changed", "part+": "new seed nodes", "part-": "seed nodes no longer read",
	}[group]
	subject := "upstream nodes"
	switch strings.TrimRight(group, "+-") {
	case "input":
		subject = "inputs"
	case "script":
		subject = "scripts"
	case "part":
		subject = "seed nodes"
	}
	count := thousands(n)
	if group == "dep" || group == "input" || group == "script" || group == "part" {
		count += " of " + thousands(of)
	}
	return fmt.Sprintf("%s: %s %s (%s)", what, count, subject, listSome(first, n))
}

// listSome names the first of n items: "a, b, c and 99,997 more".
func listSome(first []string, n int) string {
	s := strings.Join(first, ", ")
	if n > len(first) {
		s += " and " + thousands(n-len(first)) + " more"
	}
	return s
}

// thousands formats n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// describe renders one changed component.
func describe(k, old, now string, hadOld, hasNow bool) string {
	kind, name, _ := strings.Cut(k, ":")
	switch {
	case strings.HasPrefix(k, "param."):
		p := strings.TrimPrefix(k, "param.")
		if !hadOld {
			return fmt.Sprintf("parameter %s added: %s", p, short(now))
		}
		if !hasNow {
			return fmt.Sprintf("parameter %s removed", p)
		}
		return fmt.Sprintf("parameter %s: %s -> %s", p, short(old), short(now))
	case kind == "input" || kind == "script":
		switch {
		case !hadOld:
			return fmt.Sprintf("new %s %s", kind, name)
		case !hasNow:
			return fmt.Sprintf("%s %s no longer read", kind, name)
		}
		return fmt.Sprintf("%s %s content changed (%s -> %s)", kind, name, shortDigest(old), shortDigest(now))
	case kind == "dep":
		if !hadOld {
			return fmt.Sprintf("now reads the outputs of %s", name)
		}
		if !hasNow {
			return fmt.Sprintf("no longer reads the outputs of %s", name)
		}
		return fmt.Sprintf("outputs of %s changed", name)
	case k == "version":
		return fmt.Sprintf("stage version %s -> %s", old, now)
	case k == "seed":
		return fmt.Sprintf("pipeline seed %s -> %s", old, now)
	}
	return fmt.Sprintf("%s changed", k)
}

// jsonUnescaper undoes encoding/json's HTML escaping for display.
var jsonUnescaper = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&")

// short truncates a JSON value for display.
func short(s string) string {
	s = jsonUnescaper.Replace(s)
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// shortDigest shows "type:abcdef12" of a "type:digest" component.
func shortDigest(s string) string {
	t, d, ok := strings.Cut(s, ":")
	if !ok || len(d) < 12 {
		return s
	}
	return t + ":" + d[:12]
}
