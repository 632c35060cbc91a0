// Command screenshare-probe is the agent's side of a built-in screen share (app.ScreenShare, the
// receive-only media call the desktop app uses) for e2e/cobrowse.test.mjs, with the hub replaced
// by pipes: it reads the customer's visual.signal payloads as JSON lines on stdin, writes its own
// as {"signal": ...} lines on stdout, and reports the frames it decodes as {"frames": n,
// "distinct": d, "width": w, "height": h} lines, so the test can tell the picture moves.
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"image"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/wire"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "screenshare-probe:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var outMu sync.Mutex
	out := json.NewEncoder(os.Stdout)
	write := func(v any) {
		outMu.Lock()
		defer outMu.Unlock()
		_ = out.Encode(v)
	}
	share, err := app.NewScreenShare("v1", func(m wire.VisualSignal) error {
		write(map[string]any{"signal": m})
		return nil
	}, app.ScreenShareOptions{LoopbackOnly: true, Logger: log})
	if err != nil {
		return err
	}
	defer share.Close()

	var (
		mu       sync.Mutex
		frames   int
		distinct = map[[32]byte]bool{}
		w, h     int
	)
	share.OnFrame(func(img *image.YCbCr) {
		sum := sha256.Sum256(img.Y)
		mu.Lock()
		frames++
		if len(distinct) < 1000 {
			distinct[sum] = true
		}
		w, h = img.Rect.Dx(), img.Rect.Dy()
		mu.Unlock()
	})
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				mu.Lock()
				r := map[string]any{"frames": frames, "distinct": len(distinct), "width": w, "height": h, "connection": share.View().Connection}
				mu.Unlock()
				write(r)
			}
		}
	}()

	lines := make(chan []byte)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			lines <- append([]byte(nil), sc.Bytes()...)
		}
		close(lines)
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			var m wire.VisualSignal
			if err := json.Unmarshal(line, &m); err != nil {
				write(map[string]any{"error": "EINVALID"})
				continue
			}
			if err := share.HandleSignal(m); err != nil {
				write(map[string]any{"error": wire.ErrorCode(err)})
			}
		}
	}
}
