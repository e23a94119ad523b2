package runner

import (
	"reflect"
	"testing"
)

func TestWhy(t *testing.T) {
	base := map[string]string{"kind": "command", "version": "1", "seed": "1",
		"param.run": `["echo","a"]`, "input:data/a.txt": "file:" + rep('a'), "dep:command.x": rep('d')}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range base {
			m[a] = b
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name string
		prev map[string]string
		cur  map[string]string
		want []string
	}{
		{"first run", nil, base, []string{"no earlier run"}},
		{"same key, record gone", base, base, []string{"cache entry missing"}},
		{"parameter", base, with("param.run", `["echo","<b>"]`), []string{`parameter run: ["echo","a"] -> ["echo","<b>"]`}},
		{"input content", base, with("input:data/a.txt", "file:"+rep('b')),
			[]string{"input data/a.txt content changed (file:aaaaaaaaaaaa -> file:bbbbbbbbbbbb)"}},
		{"new input", base, with("input:data/b.txt", "file:"+rep('b')), []string{"new input data/b.txt"}},
		{"dropped input", base, with("input:data/a.txt", ""), []string{"input data/a.txt no longer read"}},
		{"upstream", base, with("dep:command.x", rep('e')), []string{"outputs of command.x changed"}},
		{"version", base, with("version", "2"), []string{"stage version 1 -> 2"}},
		{"seed", base, with("seed", "7"), []string{"pipeline seed 1 -> 7"}},
		{"several, in name order", base, func() map[string]string {
			m := with("input:data/a.txt", "")
			m["input:data/0.txt"], m["input:data/z.txt"], m["seed"] = "file:"+rep('0'), "file:"+rep('z'), "7"
			return m
		}(), []string{"new input data/0.txt", "input data/a.txt no longer read", "new input data/z.txt", "pipeline seed 1 -> 7"}},
		{"everything replaced", base, map[string]string{"zz": "1"}, []string{"no longer reads the outputs of command.x",
			"input data/a.txt no longer read", "kind changed", "parameter run removed", "pipeline seed 1 -> ", "stage version 1 -> ", "zz changed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := why(c.prev, c.cur); !reflect.DeepEqual(got, c.want) {
				t.Errorf("why() = %q, want %q", got, c.want)
			}
		})
	}
}

func TestKeyOfIsCanonical(t *testing.T) {
	a := map[string]string{"kind": "command", "param.run": `["x"]`}
	b := map[string]string{"param.run": `["x"]`, "kind": "command"}
	if keyOf(a) != keyOf(b) {
		t.Fatal("key depends on map order")
	}
	// Length prefixes keep "a=b" + "c" apart from "a" + "b=c".
	if keyOf(map[string]string{"a": "b=c"}) == keyOf(map[string]string{"a=b": "c"}) {
		t.Fatal("ambiguous key encoding")
	}
	if len(keyOf(a)) != 64 {
		t.Fatal("key is not 64 hex digits")
	}
}

func TestOwnerOf(t *testing.T) {
	owners := map[string]string{"out/a.txt": "command.a", "out/tree": "command.t"}
	cases := map[string]string{"out/a.txt": "command.a", "out/tree/x/y.bin": "command.t", "out/b.txt": "", "./out/a.txt": "command.a"}
	for p, want := range cases {
		if got := ownerOf(p, owners); got != want {
			t.Errorf("ownerOf(%q) = %q, want %q", p, got, want)
		}
	}
}

func rep(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return string(b)
}
