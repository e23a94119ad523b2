package train

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
	"github.com/pcamflow/pcamflow/stages"
)

// writeAggregatePlots draws the pictures of a stage with seeds: every seed thin and the mean ± std
// band, from each seed node's history.json, and writes the data behind them as plots/curves.json.
func writeAggregatePlots(env *stages.Env) error {
	_, opt, err := decode(env.Config)
	if err != nil {
		return err
	}
	seeds := sortedSeeds(env.Parts)
	hists := make([][]Epoch, 0, len(seeds))
	for _, seed := range seeds {
		path := env.Parts[seed][outHistory].Path
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("seed %s: reading the history for the pictures: %w", seed, err)
		}
		var h []Epoch
		if err := json.Unmarshal(data, &h); err != nil {
			return fmt.Errorf("seed %s: history %s: %w", seed, path, err)
		}
		hists = append(hists, h)
	}
	c := curvesOf(seeds, hists)
	dir := env.OutputPaths[PlotsOutput]
	if err := drawCurves(dir, c, opt.Beta); err != nil {
		return err
	}
	data, err := json.MarshalIndent(c, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, CurvesFile), append(data, '\n'), 0o644)
}
