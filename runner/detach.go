package runner

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/slurm"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/track"
)

// The detached Slurm executor: the plan walk decides what is missing, and every missing node is
// submitted at once, one job or job array per stage, each depending (afterok) on the jobs of its
// upstream stages; nobody waits. `pcamflow status` later ingests the result files (Reconcile).

// Detached is what a detached run submitted.
type Detached struct {
	RunID string
	// Jobs maps stage addresses to their Slurm job ids (the aggregate node of a seeded stage, which
	// waits for the stage's seed nodes, is its own job: "kind.name aggregate").
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
//
// A node of a kind that runs children (stages.Spawner, the sweep) cannot be detached: it decides
// its children while they finish, so it must run where a runner stays. Detach refuses a plan in
// which such a node must run, naming it, before submitting anything.
func (r *Runner) Detach(ctx context.Context) (*Detached, error) {
	plan, err := r.Plan(ctx)
	if err != nil {
		return nil, err
	}
	for _, pn := range plan {
		node, ok := r.p.Node(pn.Node)
		if ok && pn.State == state.Planned && isSpawner(node) {
			return nil, fmt.Errorf("%s cannot run detached: a %s node runs child nodes while the pipeline runs and must stay attached to a runner. "+
				"Run it attached (for example inside tmux or screen, or with nohup), or detach only the stages it needs with --target",
				pn.Node, node.Stage.Kind.Name())
		}
	}
	start := time.Now()
	x := r.newExecution(track.NewRunID(start))
	close(x.done)
	se := newSlurmExec(x, r.opt.Slurm, nil)
	out := &Detached{RunID: x.runID, Jobs: map[string]string{}}
	inFlight := r.inFlight(ctx, se.client)
	byGroup := map[string]*group{}
	var order []string
	blocked := map[string]string{} // node => job it waits for
	for _, pn := range plan {
		if pn.Parent != "" {
			continue // children of a cached parent: nothing to submit
		}
		node, _ := r.p.Node(pn.Node)
		if pn.State == state.Cached {
			out.Cached++
			continue
		}
		if job, ok := inFlight[pn.Node]; ok {
			out.InFlight = append(out.InFlight, fmt.Sprintf("%s (job %s)", pn.Node, job))
			blocked[pn.Node] = job
			continue
		}
		key := groupKey(node)
		g := byGroup[key]
		if g == nil {
			res := r.nodeResources(node)
			g = &group{name: groupName(node), label: node.Stage.Addr, res: res, array: node.Stage.ForEach()}
			byGroup[key] = g
			order = append(order, key)
		}
		g.nodes = append(g.nodes, &prepared{node: node, stage: node.Stage})
		g.waiters = append(g.waiters, nil)
	}
	if len(order) > 0 {
		if err := x.rec.beginRun(r.p, r.opt.Args, start); err != nil {
			return nil, err
		}
	}
	for _, key := range order {
		if err := r.detachGroup(ctx, se, key, byGroup[key], out, blocked); err != nil {
			return out, err
		}
	}
	return out, nil
}

// detachGroup records and submits one stage's nodes (its seed nodes, or its aggregate node, which
// must wait for them) with afterok dependencies on the jobs of their upstream nodes.
func (r *Runner) detachGroup(ctx context.Context, se *slurmExec, key string, g *group, out *Detached, blocked map[string]string) error {
	deps := map[string]bool{}
	for _, n := range g.nodes {
		for _, u := range n.node.Upstream {
			un, _ := r.p.Node(u)
			if job, ok := out.Jobs[groupKey(un)]; ok {
				deps[job] = true
			}
			if job, ok := blocked[u]; ok {
				deps[strings.SplitN(job, "_", 2)[0]] = true
			}
		}
		nr, err := se.x.rec.started(n, state.Slurm, []string{"submitted by a detached run"}, "")
		if err != nil {
			return err
		}
		n.nodeRunID = nr.ID
	}
	spec, err := se.jobSpec(g)
	if err != nil {
		return err
	}
	for d := range deps {
		spec.Dependency = append(spec.Dependency, d)
	}
	sort.Strings(spec.Dependency)
	id, err := se.client.Submit(ctx, spec)
	if err != nil {
		return fmt.Errorf("submitting %s to Slurm: %w", g.label, err)
	}
	out.Jobs[key] = id
	se.recordJobIDs(g, id, spec)
	if err := writeSpec(se.dir, g.name, id, spec); err != nil {
		return err
	}
	dep := ""
	if len(spec.Dependency) > 0 {
		dep = " after " + strings.Join(spec.Dependency, ",")
	}
	fmt.Fprintf(r.opt.Out, "  slurm    %s submitted as %s %s%s\n", g.label, jobWhat(spec), id, dep)
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
// single-quoted in the scripts. Stages whose kind runs children are not rendered: they run where
// the runner runs, and their children's arrays depend on what the children propose.
func (r *Runner) Render() (map[string]string, error) {
	x := r.newExecution("RENDERED")
	se := newSlurmExec(x, r.opt.Slurm, nil)
	out := map[string]string{}
	for _, s := range r.p.Order {
		if _, parent := s.Kind.(stages.Spawner); parent || r.executorOf(s) != state.Slurm || len(s.Nodes) == 0 {
			continue
		}
		// one script per group: the stage, or each set of instances with their own resources
		groups := map[string]*group{}
		var order []string
		for _, n := range s.Nodes {
			key := groupKey(n)
			g := groups[key]
			if g == nil {
				g = &group{name: groupName(n), label: s.Addr, res: r.nodeResources(n), array: s.ForEach()}
				groups[key] = g
				order = append(order, key)
			}
			g.nodes = append(g.nodes, &prepared{node: n, stage: s})
			g.waiters = append(g.waiters, nil)
		}
		for _, key := range order {
			g := groups[key]
			spec, err := se.jobSpec(g)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.Addr, err)
			}
			script, err := slurm.Render(spec)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.Addr, err)
			}
			name := s.Addr
			if len(order) > 1 {
				name = g.nodes[0].node.Addr
			}
			out[name] = script
		}
	}
	return out, nil
}
