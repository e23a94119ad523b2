package kindtest_test

import (
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/internal/testkinds"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/builtin"
	"github.com/pcamflow/pcamflow/stages/kindtest"
)

// TestBuiltinKinds runs the conformance suite over every kind of the pcamflow binary.
func TestBuiltinKinds(t *testing.T) {
	kindtest.RunAll(t, builtin.Registry())
}

// TestTestKinds runs the suite over the test-only kinds (a parent that runs children among them).
func TestTestKinds(t *testing.T) {
	reg := builtin.Registry(testkinds.All()...)
	for _, k := range testkinds.All() {
		t.Run(k.Name(), func(t *testing.T) { kindtest.Run(t, reg, k.Name()) })
	}
}

// kindWithoutFixture is a kind that does not implement stages.Fixtured.
type kindWithoutFixture struct{ stages.Kind }

func (kindWithoutFixture) Name() string { return "bare" }

// TestKindWithoutFixture checks that the suite refuses a kind without a fixture, saying how to add one.
func TestKindWithoutFixture(t *testing.T) {
	_, err := kindtest.FixtureOf(kindWithoutFixture{})
	if err == nil || !strings.Contains(err.Error(), "stages/bare/fixture.go") || !strings.Contains(err.Error(), "stages.Fixtured") {
		t.Errorf("FixtureOf(a kind without a fixture) = %v", err)
	}
}
