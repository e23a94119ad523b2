package cli

import (
	"fmt"
	"os"

	"github.com/pcamflow/pcamflow/runner"
	"github.com/pcamflow/pcamflow/track"
)

// recordTwins keeps the twin-run table of a verify in the run database, where `pcamflow report`
// finds it. Recording is best effort: a failure is a warning, the verify verdict stands.
func (e *env) recordTwins(verifyID string, twins []runner.Twin) {
	if len(twins) == 0 {
		return
	}
	host, _ := os.Hostname()
	recs := make([]track.TwinRecord, 0, len(twins))
	for _, t := range twins {
		rec := track.TwinRecord{VerifyID: verifyID, Node: t.Node, CachedRunID: t.RunID, Match: t.Match, Differ: t.Differ,
			Host: host, LogPath: t.LogPath}
		for i, v := range t.Summary {
			if i < len(t.TwinSummary) && t.TwinSummary[i].Name == v.Name {
				rec.Summary = append(rec.Summary, track.TwinValue{Name: v.Name, Cached: v.Value, Twin: t.TwinSummary[i].Value})
			}
		}
		rec.Measured = t.Measured
		recs = append(recs, rec)
	}
	db, err := e.openDB()
	if err == nil {
		err = db.RecordTwins(recs)
		db.Close()
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: warning: the twin table was not recorded for reports: %v\n", err)
	}
}
