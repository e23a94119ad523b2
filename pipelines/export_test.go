package pipelines

// SetParallelInstances sets the number of instances from which check evaluates a stage's
// instances on every core, and returns a function that restores it.
func SetParallelInstances(n int) (restore func()) {
	old := parallelInstances
	parallelInstances = n
	return func() { parallelInstances = old }
}
