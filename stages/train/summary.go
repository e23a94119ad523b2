package train

import (
	"encoding/json"
	"os"

	"github.com/pcamflow/pcamflow/stages"
)

// Summarize implements stages.Summarizer: the final training and validation losses of a training
// node, from its metrics.json (nil when it is missing or holds none, e.g. for an aggregate node).
func (Kind) Summarize(outputs map[string]string) []stages.SummaryValue {
	path, ok := outputs[outMetrics]
	if !ok {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var f Final
	if json.Unmarshal(data, &f) != nil || f.Final == nil {
		return nil
	}
	return []stages.SummaryValue{
		{Name: "final train loss", Value: f.Final["train_loss"]},
		{Name: "final val loss", Value: f.Final["val_loss"]},
	}
}

// SummaryMetrics implements stages.Summarizer: `pcamflow runs` lists the final validation ROC-AUC,
// F-beta and loss of training nodes.
func (Kind) SummaryMetrics() []string { return []string{"val_roc_auc", "val_f_beta", "val_loss"} }

var _ stages.Summarizer = Kind{}
