package bundle

import "testing"

func TestRelocate(t *testing.T) {
	r := newRelocator("/home/ana/p&q", map[string]string{
		"/home/ana/p&q/.pcamflow/out/train.mlp.1/best.ckpt": "model/seed-1.ckpt",
	})
	tests := []struct{ name, file, in, want string }{
		{"checkpoint in JSON, escaped by encoding/json", "report.json",
			`{"checkpoints": ["/home/ana/p\u0026q/.pcamflow/out/train.mlp.1/best.ckpt"]}`,
			`{"checkpoints": ["model/seed-1.ckpt"]}`},
		{"checkpoint in JSON, written without HTML escaping", "report.json",
			`["/home/ana/p&q/.pcamflow/out/train.mlp.1/best.ckpt"]`, `["model/seed-1.ckpt"]`},
		{"another path inside the project becomes project-relative", "threshold.json",
			`{"dataset": "/home/ana/p\u0026q/.pcamflow/out/dataset.d/data", "n": 3}`,
			`{"dataset": ".pcamflow/out/dataset.d/data", "n": 3}`},
		{"a checkpoint the bundle does not carry is project-relative", "report.json",
			`"/home/ana/p\u0026q/.pcamflow/out/train.mlp.2/best.ckpt"`, `".pcamflow/out/train.mlp.2/best.ckpt"`},
		{"a sibling folder sharing the prefix is kept", "report.json",
			`"/home/ana/p\u0026q2/data"`, `"/home/ana/p\u0026q2/data"`},
		{"the project folder itself inside a longer string is kept", "report.json",
			`"see /home/ana/p\u0026q/x"`, `"see /home/ana/p\u0026q/x"`},
		{"a path outside the project is the pipeline's own and kept", "config.json",
			`{"dir": "/data/pcam"}`, `{"dir": "/data/pcam"}`},
		{"markdown: the project prefix goes wherever it is", "summary.md",
			"of `/home/ana/p&q/.pcamflow/out/dataset.d/data`; model /home/ana/p&q/.pcamflow/out/train.mlp.1/best.ckpt",
			"of `.pcamflow/out/dataset.d/data`; model model/seed-1.ckpt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(r.relocate(tc.file, []byte(tc.in))); got != tc.want {
				t.Errorf("relocate(%s, %s)\n got %s\nwant %s", tc.file, tc.in, got, tc.want)
			}
		})
	}
	none := newRelocator("", nil)
	if got := string(none.relocate("a.json", []byte(`"/x/y"`))); got != `"/x/y"` {
		t.Errorf("a relocator without a project changed %q", got)
	}
}
