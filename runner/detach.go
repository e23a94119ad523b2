package runner

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/slurm"
	"github.com/pcamflow/pcamflow/track"
)

// Detached is what a detached run submitted.
type Detached struct {
	RunID string
	// Jobs maps stage addresses to their Slurm job ids.
	Jobs map[string]string
	// Cached counts nodes that needed nothing; InFlight lists nodes left to jobs of earlier runs.
	Cached   int
	InFlight []string
}

// Detach submits every node that is not cached to Slurm at once, one job or job array per stage,
// each depending (afterok) on the jobs of its upstream stages, records the submitted nodes as
// running, and returns without waiting. Every submitted node runs on Slurm whatever its
// executor, since nobody stays to run local nodes. `pcamflow status` later ingests the results.
// Nodes still running in jobs of an earlier run are not submitted again.
func (r *Runner) Detach(ctx context.Context) (*Detached, error) {
	plan, err := r.Plan(ctx)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	sc := &scheduler{r: r, runID: track.NewRunID(start), done: make(chan struct{})}
	close(sc.done)
	se := newSlurmExec(sc, r.opt.Slurm, nil)
	out := &Detached{RunID: sc.runID, Jobs: map[string]string{}}
	inFlight := r.inFlight(ctx, se.client)
	byStage := map[string]*batch{}
	var order []*pipelines.Stage
	blocked := map[string]string{} // node => job it waits for
	for _, pn := range plan {
		node, _ := r.p.Node(pn.Node)
		if pn.State == StateCached {
			out.Cached++
			continue
		}
		if job, ok := inFlight[pn.Node]; ok {
			out.InFlight = append(out.InFlight, fmt.Sprintf("%s (job %s)", pn.Node, job))
			blocked[pn.Node] = job
			continue
		}
		b := byStage[node.Stage.Addr]
		if b == nil {
			b = &batch{stage: node.Stage}
			byStage[node.Stage.Addr] = b
			order = append(order, node.Stage)
		}
		b.nodes = append(b.nodes, &prepared{node: node, stage: node.Stage})
		b.waiters = append(b.waiters, nil)
	}
	if r.db != nil && len(order) > 0 {
		run := track.Run{ID: sc.runID, Pipeline: r.p.Name, File: r.p.File, Args: r.opt.Args, Host: hostname(),
			PID: os.Getpid(), Started: start, Status: track.RunRunning}
		if err := r.db.BeginRun(run); err != nil {
			return nil, fmt.Errorf("recording the run: %w", err)
		}
	}
	for _, s := range order {
		b := byStage[s.Addr]
		if err := r.detachStage(ctx, se, b, out, blocked); err != nil {
			return out, err
		}
	}
	return out, nil
}

// detachStage records and submits one stage's nodes with afterok dependencies on its upstream jobs.
func (r *Runner) detachStage(ctx context.Context, se *slurmExec, b *batch, out *Detached, blocked map[string]string) error {
	deps := map[string]bool{}
	for _, n := range b.nodes {
		for _, u := range n.node.Upstream {
			un, _ := r.p.Node(u)
			if job, ok := out.Jobs[un.Stage.Addr]; ok {
				deps[job] = true
			}
			if job, ok := blocked[u]; ok {
				deps[strings.SplitN(job, "_", 2)[0]] = true
			}
		}
		if r.db != nil {
			nr := &track.NodeRun{RunID: se.sc.runID, Node: n.node.Addr, Kind: b.stage.Kind.Name(), State: track.NodeRunning,
				Reason: "submitted by a detached run", Started: time.Now(), Host: hostname(), Executor: "slurm"}
			if err := r.db.StartNode(nr); err != nil {
				return fmt.Errorf("recording %s: %w", n.node.Addr, err)
			}
			n.nodeRunID = nr.ID
		}
	}
	spec, err := se.jobSpec(b)
	if err != nil {
		return err
	}
	for d := range deps {
		spec.Dependency = append(spec.Dependency, d)
	}
	sort.Strings(spec.Dependency)
	id, err := se.client.Submit(ctx, spec)
	if err != nil {
		return fmt.Errorf("submitting %s to Slurm: %w", b.stage.Addr, err)
	}
	out.Jobs[b.stage.Addr] = id
	se.recordJobIDs(b, id, spec)
	if err := writeSpec(se, b.stage, id, spec); err != nil {
		return err
	}
	what := "job"
	if spec.Array != nil {
		what = fmt.Sprintf("array job (%d tasks, --array=%s)", len(spec.Array.Indices), slurm.CompactRanges(spec.Array.Indices))
	}
	dep := ""
	if len(spec.Dependency) > 0 {
		dep = " after " + strings.Join(spec.Dependency, ",")
	}
	fmt.Fprintf(r.opt.Out, "  slurm    %s submitted as %s %s%s\n", b.stage.Addr, what, id, dep)
	return nil
}

// inFlight returns the nodes of this pipeline that earlier runs left running on Slurm in jobs
// that Slurm still knows, with their job ids.
func (r *Runner) inFlight(ctx context.Context, client slurm.Client) map[string]string {
	out := map[string]string{}
	if r.db == nil {
		return out
	}
	nodes, err := r.db.RunningSlurmNodes(r.p.Name)
	if err != nil || len(nodes) == 0 {
		return out
	}
	var ids []string
	for _, n := range nodes {
		ids = append(ids, strings.SplitN(n.JobID, "_", 2)[0])
	}
	tasks, err := client.Poll(ctx, ids)
	if err != nil {
		return out
	}
	alive := map[string]bool{}
	for _, t := range tasks {
		if !t.State.IsTerminal() {
			alive[t.Key] = true
		}
	}
	for _, n := range nodes {
		if alive[n.JobID] {
			out[n.Node] = n.JobID
		}
	}
	return out
}

// Render returns the sbatch script of every stage that runs on Slurm (all stages with
// --executor slurm), by stage address, as Detach or an attached run would submit them for a
// first run: every node of the stage, job arrays for for_each stages. Values from the pipeline are
// single-quoted in the scripts.
func (r *Runner) Render() (map[string]string, error) {
	sc := &scheduler{r: r, runID: "RENDERED", done: make(chan struct{})}
	se := newSlurmExec(sc, r.opt.Slurm, nil)
	out := map[string]string{}
	for _, s := range r.p.Order {
		if r.executorOf(s) != "slurm" || len(s.Nodes) == 0 {
			continue
		}
		b := &batch{stage: s}
		for _, n := range s.Nodes {
			b.nodes = append(b.nodes, &prepared{node: n, stage: s})
			b.waiters = append(b.waiters, nil)
		}
		spec, err := se.jobSpec(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Addr, err)
		}
		script, err := slurm.Render(spec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Addr, err)
		}
		out[s.Addr] = script
	}
	return out, nil
}
