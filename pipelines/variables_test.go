package pipelines_test

import (
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages/builtin"
)

// TestVarValueMessages: a -var (or PCAMFLOW_VAR_) value of the wrong type gets one error that says
// the value is not a number (a bool, a list of ...) for the named variable, with an example, and no
// follow-up errors about the variable having no value or the for_each using it.
func TestVarValueMessages(t *testing.T) {
	src := []byte(`variable "train_size" {
  type = number
}
variable "flag" {
  type    = bool
  default = false
}
variable "sizes" {
  type    = list(number)
  default = [1]
  validation {
    condition     = length(var.sizes) > 0
    error_message = "Give at least one size."
  }
}
command "a" {
  for_each = var.sizes
  run      = ["echo", each.key, var.train_size]
}
`)
	cases := []struct {
		vars []string
		env  map[string]string
		want string
	}{
		{vars: []string{"train_size=abc"}, want: `-var train_size="abc": the value "abc" is not a number, which variable "train_size" (declared at v.hcl:1:1) requires; for example -var train_size=10.`},
		{vars: []string{"train_size=1e"}, want: `the value "1e" is not a number, which variable "train_size"`},
		{vars: []string{"train_size=[1]"}, want: `the value "[1]" is not a number`},
		{vars: []string{"train_size=1", "flag=yes"}, want: `the value "yes" is not true or false, which variable "flag" (declared at v.hcl:4:1) requires; for example -var flag=true.`},
		{vars: []string{"train_size=1", "sizes=[a, b]"}, want: `the value "[a, b]" is not a valid list of number (write it in HCL syntax, with strings in double quotes), which variable "sizes"`},
		{vars: []string{"train_size=1", `sizes=["x"]`}, want: `is not a valid list of number (write it in HCL syntax, with strings in double quotes): a number is required`},
		{env: map[string]string{"PCAMFLOW_VAR_train_size": "ten"}, want: `The environment variable PCAMFLOW_VAR_train_size: the value "ten" is not a number, which variable "train_size"`},
		{vars: []string{"train_size=" + strings.Repeat("9", 99) + "x"}, want: `the value "` + strings.Repeat("9", 60) + `"… is not a number`},
	}
	for _, tc := range cases {
		t.Run(tc.want[:20], func(t *testing.T) {
			opt := pipelines.Options{Vars: tc.vars, Getenv: func(k string) string { return tc.env[k] }}
			_, diags := pipelines.Load("v.hcl", src, builtin.Registry(), opt)
			if len(diags) != 1 {
				t.Fatalf("got %d diagnostics, want 1: %v", len(diags), diags)
			}
			if !strings.Contains(diags[0].Detail, tc.want) {
				t.Fatalf("detail %q\nwant it to contain %q", diags[0].Detail, tc.want)
			}
		})
	}
}
