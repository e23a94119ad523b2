package track

import "fmt"

// Producer returns the execution whose outputs a cached node run reused: the newest succeeded run
// of the same node with the same cache key. It returns nil for a node run that is not cached or
// whose producer is no longer recorded. The nodes of a no-op run (RecordNoop) are presented as
// cached copies of the repeated run's rows, IDs included: their producer may be the row with
// their own ID.
func (db *DB) Producer(n NodeRun) (*NodeRun, error) {
	if n.State != NodeCached || n.Key == "" {
		return nil, nil
	}
	nodes, err := db.queryNodes(`SELECT `+nodeColumns+` FROM node_runs WHERE node = ? AND key = ? AND state = ?
		ORDER BY id DESC LIMIT 1`, n.Node, n.Key, NodeSucceeded)
	if err != nil {
		return nil, fmt.Errorf("track: producer of node run %d (%s): %w", n.ID, n.Node, err)
	}
	if len(nodes) == 0 {
		return nil, nil
	}
	return &nodes[0], nil
}

// keyProducerSQL is KeyProducer's query; its parameters are the key and the two published states.
// The index node_runs_by_key (key, id) of migration 5 answers it without scanning the table.
const keyProducerSQL = `SELECT ` + nodeColumns + ` FROM node_runs WHERE key = ? AND state IN (?, ?)
	ORDER BY id DESC LIMIT 1`

// KeyProducer returns the newest execution of any node with this cache key whose outputs were
// published: succeeded, or pruned (a child stopped early after it succeeded). A child of a dynamic
// stage (a sweep's trial) is keyed by its configuration, not its parent, so a cache hit of one
// parent's child may have been produced by another parent's child at another address. It returns
// nil when no such execution is recorded.
func (db *DB) KeyProducer(key string) (*NodeRun, error) {
	if key == "" {
		return nil, nil
	}
	nodes, err := db.queryNodes(keyProducerSQL, key, NodeSucceeded, NodePruned)
	if err != nil {
		return nil, fmt.Errorf("track: producer of key %s: %w", key, err)
	}
	if len(nodes) == 0 {
		return nil, nil
	}
	return &nodes[0], nil
}
