package stages

import "fmt"

// TinyModelPipeline returns the upstream blocks of a conformance fixture whose stage needs a trained
// model: dataset "d", synthetic with the given split sizes (seed 1, no planted defects), and train
// "m", a one-epoch MLP with 4 hidden units trained on it in batches of 32. The text begins and ends
// with a blank line, so the stage under test follows it directly.
func TinyModelPipeline(train, valid, test int) string {
	return fmt.Sprintf(`
dataset "d" {
  synthetic = { train = %d, valid = %d, test = %d, seed = 1, defects = false }
}

train "m" {
  dataset    = dataset.d
  model      = { arch = "mlp", hidden_units = [4] }
  epochs     = 1
  batch_size = 32
}

`, train, valid, test)
}
