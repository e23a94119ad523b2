package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pcamflow/pcamflow/pipelines"
)

// builtinPrefix marks a run of the pipeline embedded in the binary (no file on disk).
const builtinPrefix = "<built-in>/"

// configuration answers: where do the parameters live, what were they, and what changed since the
// previous run? It shows the pipeline file, the reason each node ran (the plan's "why", recorded
// in its row) and the resolved parameters of every node.
func configuration(s *source) *section {
	sec := &section{ID: "configuration", Title: "Configuration",
		Question: "Where do the parameters live, what were they for each node, and what changed since the previous run?"}
	sec.add(heading{"Pipeline file"})
	sec.add(pipelineFile(s))
	sec.add(heading{"What ran and why"})
	t := table{Head: []string{"node", "kind", "state", "why (change since the previous run of the node)"}}
	for _, n := range s.nodes {
		if isTrial(n.Node) {
			continue
		}
		why := n.Reason
		if n.Error != "" {
			why += "; error: " + n.Error
		}
		t.Rows = append(t.Rows, []string{n.Node, n.Kind, string(n.State), orDash(why)})
	}
	sec.add(t)
	sec.add(heading{"Resolved parameters"})
	sec.add(para{"What each node ran with, after variables, defaults and references were resolved (unset attributes left out)."})
	for _, n := range s.nodes {
		if isTrial(n.Node) || len(n.Params) == 0 {
			continue
		}
		sec.add(code{Lang: "hcl", Summary: "Parameters of " + n.Node, Text: paramLines(n.Params)})
	}
	return sec
}

// pipelineFile shows the pipeline file the run was loaded from, as it is on disk now (the run
// store records its path, not its text).
func pipelineFile(s *source) block {
	name := s.run.File
	if strings.HasPrefix(name, builtinPrefix) {
		return code{Lang: "hcl", Text: "# " + name + " (embedded in pcamflow)\n" + string(pipelines.Quickstart)}
	}
	p := name
	if !filepath.IsAbs(p) {
		p = filepath.Join(s.project, p)
	}
	src, err := os.ReadFile(p)
	if err != nil {
		return para{fmt.Sprintf("The pipeline file %s cannot be read (%v); the resolved parameters below are what ran.", name, err)}
	}
	return code{Lang: "hcl", Text: "# " + name + " (as it is on disk now; the resolved parameters below are what ran)\n" + string(src)}
}
