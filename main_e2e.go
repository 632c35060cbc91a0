//go:build e2e

package main

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/internal/winharness"
	"github.com/wailsapp/wails/v2/pkg/runtime"
)

// In test builds (go build -tags e2e,...) the window harness serves on a random loopback port
// and prints where, with its token, on stdout: "parley-e2e: URL TOKEN" (e2e/lib/window.mjs reads
// it). Release builds have no such file, so no such port.
func init() {
	testWindow = func(ctx context.Context) ([]any, func(context.Context), error) {
		h, err := winharness.New()
		if err != nil {
			return nil, nil, err
		}
		url, err := h.Listen(ctx)
		if err != nil {
			return nil, nil, err
		}
		fmt.Printf("parley-e2e: %s %s\n", url, h.Token())
		domReady := func(wctx context.Context) {
			h.SetExec(func(js string) { runtime.WindowExecJS(wctx, js) })
		}
		return []any{h.Bridge()}, domReady, nil
	}
}
