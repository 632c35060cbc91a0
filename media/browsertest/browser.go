// Package browsertest runs headless Chromium peers (fake camera and microphone) for the media
// tests and benchmarks: a small page on loopback with plain RTCPeerConnection code that Go
// drives through chromedp and signals itself.
package browsertest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/chromedp/chromedp"
)

//go:embed page.html
var page []byte

// Server serves the test page on loopback.
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// NewServer starts the page server.
func NewServer() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, srv: &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})}}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// URL is the page's address.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/" }

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Peer is one Chromium process showing the page.
type Peer struct {
	ctx       context.Context
	cancel    func()
	allocStop func()
	dir       string
	PID       int
}

// Launch starts Chromium at path (/usr/bin/chromium) and opens url.
func Launch(path, url string) (*Peer, error) {
	dir, err := os.MkdirTemp("", "parley-chromium-")
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.UserDataDir(dir),
		chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	p := &Peer{ctx: ctx, cancel: cancel, allocStop: acancel, dir: dir}
	// The first Run starts the browser and must use ctx itself: a cancelled child context
	// would end the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("browser: start: %w", err)
	}
	tctx, tcancel := context.WithTimeout(ctx, 30*time.Second)
	defer tcancel()
	if _, err := chromedp.Run(tctx, chromedp.Navigate(url)); err != nil {
		p.Close()
		return nil, fmt.Errorf("browser: launch: %w", err)
	}
	if b := chromedp.FromContext(ctx).Browser; b != nil && b.Process() != nil {
		p.PID = b.Process().Pid
	}
	return p, nil
}

// Eval runs a JavaScript expression, awaiting a promise, and stores its JSON value in out.
func (p *Peer) Eval(expr string, out any) error {
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return fmt.Errorf("browser: %s: %w", expr, err)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// Call runs fn(args...) in the page, JSON-encoding the arguments.
func (p *Peer) Call(out any, fn string, args ...any) error {
	expr := fn + "("
	for i, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		if i > 0 {
			expr += ","
		}
		expr += string(b)
	}
	return p.Eval(expr+")", out)
}

// Status is the page's view of the call.
type Status struct {
	Frames      int     `json:"frames"`
	Hash        uint32  `json:"hash"`
	AudioLevel  float64 `json:"audioLevel"`
	AudioEnergy float64 `json:"audioEnergy"`
	Width       int     `json:"width"`
	Height      int     `json:"height"`
	State       string  `json:"state"`
	SetupMs     float64 `json:"setupMs"`
}

// Status reads the page's call status.
func (p *Peer) Status() (Status, error) {
	var s Status
	err := p.Call(&s, "status")
	return s, err
}

// Close ends Chromium and removes its profile.
func (p *Peer) Close() {
	p.cancel()
	p.allocStop()
	_ = os.RemoveAll(p.dir)
}
