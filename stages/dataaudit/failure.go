package dataaudit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pcamflow/pcamflow/audit"
	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/stages"
)

// failureDir is where a failed gate of env's node keeps its report: <workspace>/failed/<node>. The
// workspace is the folder holding the node's resume folder (<workspace>/resume/<key>, or
// <workspace>/tmp/verify-* for verify re-executions); "" when the node has no resume folder.
func failureDir(env *stages.Env) string {
	if env.ResumeDir == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(filepath.Dir(env.ResumeDir)), "failed", safeName(env.Node))
}

// safeName turns a node address into a file name: characters other than letters, digits, '.', '_'
// and '-' become '_', and an address that needed that gets 8 hex digits of its hash, so that two
// addresses never share a name.
func safeName(node string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, node)
	if clean == node {
		return node
	}
	sum := sha256.Sum256([]byte(node))
	return clean + "-" + hex.EncodeToString(sum[:4])
}

// keepFailure writes the report, summary and montages of a node whose gate failed into its failure
// folder, replacing an earlier one as a whole, and returns the folder (project-relative when it is
// inside the project). The node's own outputs are discarded by the runner because the node fails.
func keepFailure(env *stages.Env, report *audit.Report, readers map[pcam.Split]pcam.Reader) (string, error) {
	dir := failureDir(env)
	if dir == "" {
		return "", fmt.Errorf("the node has no workspace folder")
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	err = writeReport(report, readers, filepath.Join(tmp, "report.json"), filepath.Join(tmp, "summary.md"), filepath.Join(tmp, "montages"))
	if err != nil {
		return "", err
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	if rel, err := filepath.Rel(env.ProjectDir, dir); err == nil && !strings.HasPrefix(rel, "..") {
		return rel + string(filepath.Separator), nil
	}
	return dir + string(filepath.Separator), nil
}

// removeFailure removes the failure folder a previous failed gate of the node left, once the gate
// passes.
func removeFailure(env *stages.Env) {
	if dir := failureDir(env); dir != "" {
		os.RemoveAll(dir)
	}
}
