//go:build e2e

package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"

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
		if os.Getenv("PARLEY_PPROF") != "" {
			servePprof()
		}
		domReady := func(wctx context.Context) {
			h.SetExec(func(js string) { runtime.WindowExecJS(wctx, js) })
		}
		return []any{h.Bridge()}, domReady, nil
	}
}

// servePprof serves Go's profiler on a random loopback port and prints where: "parley-e2e:
// pprof URL" (bench/app.mjs with BENCH_PROFILE reads it). Only test builds started with
// PARLEY_PPROF=1 have it: a release build links no profiler and opens no such port.
func servePprof() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(os.Stderr, "parley-e2e: pprof: %v\n", err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	fmt.Printf("parley-e2e: pprof http://%s/debug/pprof/\n", ln.Addr())
	go func() { _ = http.Serve(ln, mux) }()
}
