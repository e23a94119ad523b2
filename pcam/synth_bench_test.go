package pcam

import "testing"

// BenchmarkRenderTissue measures rendering one synthetic patch on one core.
func BenchmarkRenderTissue(b *testing.B) {
	var cv canvas
	dst := make([]byte, PatchBytes)
	for i := 0; i < b.N; i++ {
		renderTissue(patchSeed(1, Train, i, 0), dst, &cv)
	}
}
