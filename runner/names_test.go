package runner

import (
	"strconv"
	"testing"
)

func TestFileNameKeepsCommonNames(t *testing.T) {
	for addr, want := range map[string]string{
		"command.prep":                                 "command.prep",
		`train.mlp["1"]`:                               "train.mlp.1",
		`command.c["a_b"]`:                             "command.c.a_b",
		`command.c["a/b"]`:                             "command.c.a%2Fb",
		`command.c["0.5"]`:                             "command.c.0%2E5",
		`command.c["x y"]`:                             "command.c.x%20y",
		`sweep.hpo.trial["0a1b2c3d"]`:                  "sweep.hpo.trial.0a1b2c3d",
		`sweep.h["k"].trial["0a1b2c3d"]`:               "sweep.h.k.trial.0a1b2c3d",
		`command.c["quote\"bracket]"]`:                 "command.c.quote%22bracket%5D",
		`command.c["%2F"]`:                             "command.c.%252F",
		"command.c[" + strconv.Quote("\x00\xff") + "]": "command.c.%00%FF",
		"not an address":                               "%not%20an%20address",
		`command.c["unterminated`:                      "%command%2Ec%5B%22unterminated",
		`command.c["a"]["b"]`:                          "command.c.a.b",
		`command.c["trial"].trial["deadbeef"]`:         "command.c.trial.trial.deadbeef",
	} {
		if got := FileName(addr); got != want {
			t.Errorf("FileName(%q) = %q, want %q", addr, got, want)
		}
	}
}

// TestFileNameIsInjective checks that distinct addresses never share a file name, over keys that
// differ only in the bytes the old mapping folded together ("/" and "_", quotes, brackets, dots).
func TestFileNameIsInjective(t *testing.T) {
	keys := []string{"a/b", "a_b", "a.b", "a", "b", "a%2Fb", "a%5Fb", `a"b`, "a]b", "a[b", "", "trial", "trial.x", "1", "01", "a b", "a\x00b"}
	seen := map[string]string{}
	add := func(addr string) {
		name := FileName(addr)
		if other, dup := seen[name]; dup && other != addr {
			t.Errorf("%q and %q share the file name %q", addr, other, name)
		}
		seen[name] = addr
	}
	for _, stage := range []string{"command.c", "command.d"} {
		add(stage)
		for _, k := range keys {
			inst := stage + "[" + strconv.Quote(k) + "]"
			add(inst)
			add(stage + `.trial["` + "0a1b2c3d" + `"]`)
			add(inst + `.trial["0a1b2c3d"]`)
		}
	}
}
