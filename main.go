// Command parley is the Parley agent desktop app: a Wails window over the services in app/.
//
// Usage:
//
//	parley [-hub URL] [-org ID] [-devices system|test-pattern] [--version]
//	parley -demo [-demo-addr 127.0.0.1:8080]     (builds with the demo tag: make demo)
//
// With -demo the app starts a hub in-process on SQLite with the demo organisation, signs in as
// agent1 and prints the portal URL a customer can chat from. Linux builds need -tags webkit2_41.
// IT checks a policy file with parley-policy check, which ships beside the app.
//
// The other files here are what some builds add: main_dev.go (wails dev builds), main_e2e.go (the
// window harness of the E2E tests), demo.go (the demo hub), webview_*.go (watching the web view's
// process on Linux).
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/internal/version"
	"github.com/parleyhq/parley/wire"
	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/logger"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/runtime"
)

//go:embed all:frontend/dist
var assets embed.FS

//go:embed build/appicon.png
var icon []byte

// wailsEmitter hands the services' events to the window once it exists; before that they are
// dropped (the UI asks for the current state when it loads). The window gets every event as one
// Wails event, "parley", carrying the app.Event: its name, its number and its data. The services
// call Emit from one goroutine, in order, holding no lock (app/events.go), so it needs none.
type wailsEmitter struct {
	ctx atomic.Pointer[context.Context]
}

// Emit forwards to runtime.EventsEmit.
func (e *wailsEmitter) Emit(ev app.Event) {
	if ctx := e.ctx.Load(); ctx != nil {
		runtime.EventsEmit(*ctx, "parley", ev)
	}
}

// formatError is what a rejected promise carries to the UI: the code it translates, and the
// message for the console. Anything that is not a *wire.Error is internal.
func formatError(err error) any {
	return wire.Error{Code: wire.ErrorCode(err), Message: wire.ErrorMessage(err)}
}

// Set by the files of other builds (nil in a release build):
var (
	// startDemo starts the demo hub on addr (demo.go, tag demo) and returns its URL and its stop.
	startDemo func(ctx context.Context, addr string, log *slog.Logger) (string, func(), error)
	// devFlags declares the flags a Wails dev build reads itself (main_dev.go).
	devFlags func(*flag.FlagSet)
	// policyFileOverride names a policy file to load instead of the machine's (main_dev.go).
	policyFileOverride func() string
)

// testWindow is set by main_e2e.go in test builds (build tag e2e, never in a release): it
// returns what to bind for the window harness end-to-end tests drive the window through, and
// what to run each time the page has loaded. Nil in release builds.
var testWindow func(ctx context.Context) (bind []any, domReady func(context.Context), err error)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "parley:", err)
		os.Exit(1)
	}
}

func run() error {
	fl := flag.NewFlagSet("parley", flag.ContinueOnError)
	hubURL := fl.String("hub", os.Getenv("PARLEY_HUB"), "hub URL to pre-fill in the sign-in form (env PARLEY_HUB)")
	orgID := fl.String("org", os.Getenv("PARLEY_ORG"), "organisation to pre-fill in the sign-in form (env PARLEY_ORG)")
	demo, demoAddr := new(bool), new(string)
	if startDemo != nil {
		demo = fl.Bool("demo", false, "start a demo hub in-process and sign in as agent1")
		demoAddr = fl.String("demo-addr", "127.0.0.1:8080", "address of the demo hub")
	}
	showVersion := fl.Bool("version", false, "print the version and exit")
	verbose := fl.Bool("v", false, "debug logs")
	devices := fl.String("devices", string(app.DevicesSystem), "call devices: system (camera, microphone, speakers; the test pattern stays in the pickers) or test-pattern")
	if devFlags != nil {
		devFlags(fl)
	}
	singleWriteUsage(fl)
	if err := fl.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h printed the usage: not a failure
		}
		if startDemo == nil && strings.Contains(err.Error(), "-demo") {
			return fmt.Errorf("%w (this build has no demo hub: `make demo` builds the app with one)", err)
		}
		return err
	}
	if d := app.DeviceMode(*devices); d != app.DevicesSystem && d != app.DevicesTestPattern {
		return fmt.Errorf("-devices must be system or test-pattern, not %q", *devices)
	}
	if *showVersion {
		fmt.Println("parley", version.Version)
		return nil
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	pol, polPath, polErr := machinePolicy(log)
	if polErr == nil {
		if *hubURL != "" {
			if err := refuseHub(pol, "-hub", *hubURL); err != nil {
				return err
			}
		}
		if *demo {
			if err := refuseHub(pol, "-demo", "http://"+*demoAddr); err != nil {
				return err
			}
		}
	}

	ctx := context.Background()
	prefill := app.Prefill{HubURL: *hubURL, Org: *orgID}
	var stopDemo func()
	if *demo {
		url, stop, err := startDemo(ctx, *demoAddr, log)
		if err != nil {
			return fmt.Errorf("demo hub: %w", err)
		}
		stopDemo = stop
		defer stopDemo()
		prefill.HubURL, prefill.Org = url, "demo"
		fmt.Printf("portal: %s/chat/demo\n", url)
	}

	emitter := &wailsEmitter{}
	// Single sign-on opens the system browser, never a page inside the app (RFC 8252).
	openURL := func(u string) error {
		ctx := emitter.ctx.Load()
		if ctx == nil {
			return errors.New("the window is not open yet")
		}
		runtime.BrowserOpenURL(*ctx, u)
		return nil
	}
	stateDir := ""
	if dir, err := os.UserConfigDir(); err == nil && !*demo {
		stateDir = filepath.Join(dir, "parley")
	}
	svc := app.New(app.Config{Emitter: emitter, Logger: log, Prefill: prefill, Devices: app.DeviceMode(*devices),
		Policy: pol, PolicyErr: polErr, PolicyPath: polPath, OpenURL: openURL, StateDir: stateDir})
	if *demo && polErr == nil { // with a refused policy the window opens on the error instead
		if _, err := svc.Session.SignIn(prefill.HubURL, "demo", "agent1", "demo"); err != nil {
			return fmt.Errorf("demo sign-in: %w", err)
		}
	}

	dist, err := fs.Sub(assets, "frontend/dist")
	if err != nil {
		return err
	}
	bind := svc.Bindings()
	var domReady func(context.Context)
	if testWindow != nil {
		more, f, err := testWindow(ctx)
		if err != nil {
			return fmt.Errorf("test window harness: %w", err)
		}
		bind, domReady = append(bind, more...), f
	}
	return wails.Run(&options.App{
		Title:            "Parley",
		Width:            1280,
		Height:           800,
		MinWidth:         900,
		MinHeight:        560,
		BackgroundColour: &options.RGBA{R: 246, G: 247, B: 249, A: 255},
		AssetServer:      &assetserver.Options{Assets: dist},
		OnStartup: func(ctx context.Context) {
			emitter.ctx.Store(&ctx)
			// A crashed or hung page is reloaded, and the services keep the customers served.
			watchWebContent(svc.WindowGone)
		},
		OnDomReady: domReady,
		OnShutdown: func(context.Context) {
			emitter.ctx.Store(nil) // the window is gone: sign out quietly
			_ = svc.Close()
		},
		// Wails' trace level logs every call's result, chat text included: keep it at info.
		LogLevel:           logger.INFO,
		LogLevelProduction: logger.ERROR,
		Bind:               bind,
		ErrorFormatter:     formatError,
		Linux: &linux.Options{
			Icon:             icon,
			ProgramName:      "parley",
			WebviewGpuPolicy: linux.WebviewGpuPolicyNever,
		},
	})
}
