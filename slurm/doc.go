// Package slurm submits, watches and classifies Slurm batch jobs through the Slurm command-line
// tools (sbatch, squeue, scontrol, scancel, and sacct when accounting is enabled).
//
// The package knows nothing about pipelines: a caller describes one job (or one job array) with a
// JobSpec, renders it into a reviewable sbatch script with Render, submits it with a Client, and
// watches any number of submitted jobs with a Tracker, which invokes a constant number of Slurm
// commands per poll interval regardless of how many jobs or array tasks it watches.
//
// How each outcome is detected (see docs/slurm.md for the full story):
//
//   - State and pending reason of every task come from ONE `squeue --states=all -r --jobs=...` call
//     per interval. With --states=all, squeue also reports jobs that already finished, for as long as
//     slurmctld keeps them in memory (MinJobAge), so TIMEOUT, CANCELLED, OUT_OF_MEMORY, NODE_FAIL,
//     PREEMPTED, FAILED and COMPLETED are read directly from Slurm.
//   - Exit codes come, in order of preference, from the result file the rendered script writes
//     (JobSpec.ResultDir), from sacct when accounting storage is enabled, or from `scontrol show job`
//     while slurmctld still remembers the job. At most one such detail command runs per interval.
//   - A task that vanished from Slurm's memory before its outcome was seen is classified from its
//     result file if there is one, and otherwise reported as FailureLost.
//   - The log tail is read from the job's --output file (patterns %j, %A, %a, %x, %N, %u and %% are
//     expanded the way Slurm expands them).
package slurm
