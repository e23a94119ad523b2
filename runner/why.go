package runner

import (
	"fmt"
	"sort"
	"strings"
)

// why explains, change by change, how the components of a key differ from the previous run's.
// prev is nil when the stage never ran in this workspace.
func why(prev, cur map[string]string) []string {
	if prev == nil {
		return []string{"no earlier run"}
	}
	names := map[string]bool{}
	for k := range prev {
		names[k] = true
	}
	for k := range cur {
		names[k] = true
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		old, hadOld := prev[k]
		now, hasNow := cur[k]
		if hadOld && hasNow && old == now {
			continue
		}
		out = append(out, describe(k, old, now, hadOld, hasNow))
	}
	if len(out) == 0 {
		out = append(out, "cache entry missing")
	}
	return out
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
