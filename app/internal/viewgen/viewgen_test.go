package viewgen_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/parleyhq/parley/app/internal/viewgen"
)

// TestCurrent: the agent UI compiles against frontend/src/api/app.gen.ts (svelte-check in make
// test); a stale copy would let the UI drift from the services it calls.
func TestCurrent(t *testing.T) {
	want, err := viewgen.Generate("../..", "../../../web/wire.gen")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../../frontend/src/api/app.gen.ts")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("frontend/src/api/app.gen.ts is stale: run `go generate ./app`")
	}
}
