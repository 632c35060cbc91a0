// Package winharness lets an end-to-end test drive the agent app's real window: it runs script
// inside the app's own webview (WebKitGTK on Linux) and hands the answer back, over a loopback
// HTTP port guarded by a random token.
//
// Only test builds link it: main_e2e.go (build tag e2e) imports it; release builds never do, so a
// shipped app has no such port and no such bound method.
//
// The round trip: a test POSTs a script to /eval; the harness wraps it in an async function that
// ends by calling the bound method Harness.Done with the JSON of the result, and runs it in the
// window (runtime.WindowExecJS in main_e2e.go); Done wakes the waiting request, which answers with
// that JSON.
package winharness

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNotReady indicates a script was sent before the window's page had loaded.
var ErrNotReady = errors.New("winharness: the window's page has not loaded")

// ErrTimeout indicates a script did not answer within its time limit.
var ErrTimeout = errors.New("winharness: the script did not answer in time")

// maxScript bounds a request's body; test scripts are a few kilobytes.
const maxScript = 1 << 20

// Harness serves /eval on loopback and collects the answers scripts send back through its
// Bridge. Bind Bridge() to the window and call SetExec once the page has loaded.
type Harness struct {
	// token is the secret a request must carry (Authorization: Bearer TOKEN).
	token string
	// exec runs JavaScript in the window; nil until the page has loaded.
	exec atomic.Pointer[func(js string)]
	// next numbers scripts.
	next atomic.Uint64

	mu sync.Mutex
	// waiting maps a script's id to the channel its answer goes to.
	waiting map[string]chan string
}

// New makes a harness with a fresh random token.
func New() (*Harness, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return &Harness{token: hex.EncodeToString(b), waiting: map[string]chan string{}}, nil
}

// Token is the secret requests must carry.
func (h *Harness) Token() string { return h.token }

// SetExec hands the harness the function that runs script in the window (nil: not loaded).
func (h *Harness) SetExec(exec func(js string)) {
	if exec == nil {
		h.exec.Store(nil)
		return
	}
	h.exec.Store(&exec)
}

// Bridge is the one object the window may call: Wails binds every exported method of what it
// is given, so the harness's own methods stay off the page.
type Bridge struct{ h *Harness }

// Bridge returns the object to bind to the window.
func (h *Harness) Bridge() *Bridge { return &Bridge{h} }

// Done is called by the wrapped script with its id and the JSON of its result. An id nobody
// waits for (a script that timed out) is dropped.
func (b *Bridge) Done(id string, result string) { b.h.done(id, result) }

func (h *Harness) done(id string, result string) {
	h.mu.Lock()
	ch := h.waiting[id]
	delete(h.waiting, id)
	h.mu.Unlock()
	if ch != nil {
		ch <- result
	}
}

// Eval runs script (a JavaScript expression; a promise is awaited) in the window and returns
// the JSON {"ok":true,"value":...} or {"ok":false,"error":"..."} it produced.
func (h *Harness) Eval(ctx context.Context, script string) (string, error) {
	exec := h.exec.Load()
	if exec == nil {
		return "", ErrNotReady
	}
	id := strconv.FormatUint(h.next.Add(1), 10)
	ch := make(chan string, 1)
	h.mu.Lock()
	h.waiting[id] = ch
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.waiting, id)
		h.mu.Unlock()
	}()
	(*exec)(wrap(id, script))
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return "", ErrTimeout
	}
}

// wrap makes script report its outcome through the bound Bridge.Done. The script is spliced in
// as an expression: the page's Content-Security-Policy forbids building functions from strings,
// and script the window runs directly is exempt from it. A script with a syntax error cannot run
// at all and so never answers: its request ends with 504.
func wrap(id, script string) string {
	return fmt.Sprintf(`(async () => {
  let r;
  try {
    r = { ok: true, value: await (%s
    ) };
  } catch (e) {
    r = { ok: false, error: String((e && e.stack) || e) };
  }
  let text;
  try { text = JSON.stringify(r); } catch (e) { text = JSON.stringify({ ok: false, error: 'result is not JSON: ' + e }); }
  window.go.winharness.Bridge.Done(%q, text);
})();`, script, id)
}

// Handler serves POST /eval: the body is {"script": "...", "timeout_ms": N}; the answer is the
// script's JSON result, 503 before the page has loaded, 504 when the script did not answer.
func (h *Harness) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /eval", func(w http.ResponseWriter, r *http.Request) {
		want := "Bearer " + h.token
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) != 1 {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		var req struct {
			Script    string `json:"script"`
			TimeoutMS int    `json:"timeout_ms"`
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxScript))
		if err == nil {
			err = json.Unmarshal(body, &req)
		}
		if err != nil || req.Script == "" {
			http.Error(w, "want {\"script\": \"...\"}", http.StatusBadRequest)
			return
		}
		timeout := 10 * time.Second
		if req.TimeoutMS > 0 {
			timeout = time.Duration(req.TimeoutMS) * time.Millisecond
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		res, err := h.Eval(ctx, req.Script)
		switch {
		case errors.Is(err, ErrNotReady):
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		case err != nil:
			http.Error(w, err.Error(), http.StatusGatewayTimeout)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, res)
		}
	})
	return mux
}

// Listen serves the harness on a random loopback port until ctx ends and returns its URL.
func (h *Harness) Listen(ctx context.Context) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return "http://" + ln.Addr().String(), nil
}
