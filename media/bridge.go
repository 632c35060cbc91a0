package media

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/media/codec/jpeg"
)

// Bridge is the render bridge: a loopback HTTP server that streams video frames Go decoded to
// the UI as MJPEG (multipart/x-mixed-replace), which an <img> shows in WebKitGTK, WebView2 and
// WKWebView alike. Each feed has its own random token in its URL; other processes on the
// machine cannot guess it. Frames are JPEG-encoded only while someone watches, once per frame
// and size whatever the number of viewers; a slow viewer skips to the newest frame. A viewer
// asks for the size it shows (?w=WIDTH: the frame is shrunk in Go before encoding, so the
// encoder, the loopback socket and the webview's decoder all handle that size, not the camera's)
// and may cap the rate (?fps=N, e.g. a small self view). A capped stream sends its pictures
// right after a full-rate stream sends one (the call's self view with the remote video), so the
// webview gets both pictures' changes at once and paints the window once for both, not at two
// unrelated times (bench/transport's self modes, in WebKitGTK: a 15 fps self view beside a
// 30 fps picture cost WebKit 9 points of a core on its own clock, 3 sent with the picture).
//
// While the window cannot be seen (SetShown(false): minimised, on another workspace) the
// streams stay open but carry nothing: no frame is shrunk or encoded, and the webview decodes
// and paints nothing. (Ending the streams is not enough: WebKitGTK keeps an MJPEG load open
// after its <img> is removed, and the page cannot close it.) Shown again, the next frame goes
// out on the same connections, so the picture comes back at once.
//
// Only Go can end a stream, and it must: WebKitGTK opens at most 6 connections to one host and
// port, and each load it keeps open holds one (the first load of an <img> whose src changed;
// every load of a page whose web process died). So a stream ends when its feed closes and when
// EndStreams says the page that opened it is gone, even while a write waits on a viewer that
// stopped reading; otherwise the loads of a page reloaded after a crash wait for connections
// that never come free, and its pictures never come. A page that hung holds its loads in the
// network process whatever the bridge does with them, so EndStreams also moves the bridge to a
// new port: the reloaded page's URLs name it, and the dead page's connections count against the
// old one.
type Bridge struct {
	log *slog.Logger
	srv *http.Server

	mu    sync.Mutex
	ln    net.Listener     // the port new streams come to (replaced by EndStreams)
	feeds map[string]*Feed // by token
	// shown is closed while the window can be seen; while hidden it is an open channel that
	// SetShown(true) closes.
	shown chan struct{}
	// ended is closed, and replaced, by EndStreams: the streams open then end.
	ended chan struct{}
	// fullSent is closed, and replaced, each time a full-rate stream (no ?fps=) sends a
	// picture: capped streams wait on it to send theirs at the same time.
	fullSent chan struct{}
	// lastFull is when a full-rate stream last sent a picture (Unix ns).
	lastFull atomic.Int64
	// encodes counts the JPEGs made (tests).
	encodes atomic.Int64
	// capped counts the pictures capped streams sent, withFull those of them sent on a
	// full-rate stream's picture (tests).
	capped, withFull atomic.Int64
}

// hiddenBeat is how often a stream of a hidden window repeats its last picture (already
// encoded), so that nothing between the bridge and the <img> takes the idle stream for dead.
// A variable for tests.
var hiddenBeat = 15 * time.Second

// alignWithin is how recently a full-rate stream must have sent for a capped stream to wait for
// its next picture: with no full-rate pictures flowing (no call, the remote video off) capped
// streams keep their own time.
const alignWithin = 200 * time.Millisecond

// streamCut is how long a stream that should end may wait on a write to a viewer that stopped
// reading before the write is cut.
const streamCut = 2 * time.Second

// NewBridge starts a bridge on 127.0.0.1 at a free port.
func NewBridge(log *slog.Logger) (*Bridge, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("media: bridge listen: %w", err)
	}
	b := &Bridge{log: log, ln: ln, feeds: map[string]*Feed{}, shown: make(chan struct{}), ended: make(chan struct{}), fullSent: make(chan struct{})}
	close(b.shown)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /video/{file}", b.serve)
	b.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = b.srv.Serve(smallBufListener{ln}) }()
	return b, nil
}

// addr is the host:port new streams come to.
func (b *Bridge) addr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ln.Addr().String()
}

// smallBufListener gives each viewer connection a small send buffer. Loopback sockets buffer
// megabytes: a viewer slower than the frame rate would otherwise see frames seconds old. With
// a small buffer the writer blocks instead, and the next write sends the newest frame.
type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(64 << 10)
	}
	return c, err
}

// Close stops the server and ends every stream.
func (b *Bridge) Close() error {
	b.mu.Lock()
	feeds := b.feeds
	b.feeds = map[string]*Feed{}
	b.mu.Unlock()
	for _, f := range feeds {
		f.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := b.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = b.srv.Close()
	}
	return err
}

// SetShown says whether the window showing the bridge's pictures can be seen. While it cannot,
// the streams send nothing and no frame is encoded.
func (b *Bridge) SetShown(shown bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-b.shown: // shown now
		if !shown {
			b.shown = make(chan struct{})
			b.log.Debug("render bridge: window hidden, streams paused")
		}
	default:
		if shown {
			close(b.shown)
			b.log.Debug("render bridge: window shown, streams resumed")
		}
	}
}

// EndStreams ends every stream open now and closes its connection (within streamCut when its
// viewer stopped reading); feeds stay, and new streams of them start as before. The app calls
// it when the window's page is gone (its web process died or was ended): the web engine keeps
// that page's loads open, each holding one of the few connections the reloaded page needs.
//
// New streams then come to a new port (URLs made after EndStreams name it): the dead page's
// connections to the old one, which a hung page's network process may keep whatever the bridge
// does, do not count against the reloaded page's few. Streams already open on the old port end
// as above; the old port takes no new ones.
func (b *Bridge) EndStreams() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	b.mu.Lock()
	close(b.ended)
	b.ended = make(chan struct{})
	old := b.ln
	if err == nil {
		b.ln = ln
	}
	b.mu.Unlock()
	if err != nil {
		b.log.Warn("render bridge: streams ended; no new port, new streams stay on the old one", "err", err)
		return
	}
	go func() { _ = b.srv.Serve(smallBufListener{ln}) }()
	_ = old.Close()
	b.log.Debug("render bridge: streams ended, new streams on a new port", "addr", ln.Addr().String())
}

// whenShown returns nil while the window is shown, else a channel closed when it is shown again.
func (b *Bridge) whenShown() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-b.shown:
		return nil
	default:
		return b.shown
	}
}

// sentFull notes that a full-rate stream sent a picture: capped streams waiting for one go.
func (b *Bridge) sentFull() {
	b.lastFull.Store(time.Now().UnixNano())
	b.mu.Lock()
	close(b.fullSent)
	b.fullSent = make(chan struct{})
	b.mu.Unlock()
}

// nextFull returns a channel closed when a full-rate stream next sends a picture, or nil when
// none sent one within alignWithin.
func (b *Bridge) nextFull() <-chan struct{} {
	if time.Since(time.Unix(0, b.lastFull.Load())) > alignWithin {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.fullSent
}

// NewFeed returns a new feed with its own token.
func (b *Bridge) NewFeed() *Feed {
	f := &Feed{b: b, token: randomHex(16), notify: make(chan struct{}), done: make(chan struct{})}
	b.mu.Lock()
	b.feeds[f.token] = f
	b.mu.Unlock()
	return f
}

func (b *Bridge) serve(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	token, ext, _ := strings.Cut(file, ".")
	b.mu.Lock()
	f := b.feeds[token]
	b.mu.Unlock()
	if f == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	width := queryInt(r, "w", 4096)
	switch ext {
	case "jpg":
		// One frame: the newest.
		j, _, ok := f.jpegAfter(r.Context(), nil, 0, width, false)
		if !ok {
			http.Error(w, "no frame", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(j)
	case "mjpeg":
		const boundary = "parleyframe"
		w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary="+boundary)
		// A stream ends only when it is dead: its connection is never used again.
		w.Header().Set("Connection", "close")
		fl, _ := w.(http.Flusher)
		b.mu.Lock()
		ended := b.ended
		b.mu.Unlock()
		log := b.log.With("feed", f.token[:6], "w", width)
		log.Debug("render bridge: stream started", "viewers", f.viewers.Add(1))
		sent := 0
		// The stream ends when its feed closes, when EndStreams says its page is gone, or when
		// the viewer goes: the loop below returns between two pictures, and the response ends
		// as HTTP says. (Not with a reset: seen in the app's E2E, once about six streams had
		// ended with one, WebKitGTK's loads to the bridge waited forever with no connection
		// open.) A write that waits on a viewer that stopped reading is cut after streamCut.
		stop := make(chan struct{})
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			select {
			case <-f.done:
			case <-ended:
			case <-stop:
				return
			}
			t := time.NewTimer(streamCut)
			defer t.Stop()
			select {
			case <-stop:
			case <-t.C:
				_ = http.NewResponseController(w).SetWriteDeadline(time.Now())
			}
		}()
		defer func() {
			close(stop)
			<-stopped
			log.Debug("render bridge: stream ended", "viewers", f.viewers.Add(-1), "frames", sent)
		}()
		// Each part ends with the next boundary line, so a viewer can show a frame as soon as
		// it arrives instead of when the following frame's boundary comes (one frame later).
		if _, err := fmt.Fprintf(w, "--%s\r\n", boundary); err != nil {
			return
		}
		var gap time.Duration
		if fps := queryInt(r, "fps", 60); fps > 0 {
			gap = time.Second / time.Duration(fps)
		}
		var seq uint64
		var next time.Time
		var last []byte // the last picture sent
		send := func(j []byte) bool {
			if _, err := fmt.Fprintf(w, "Content-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n", len(j)); err != nil {
				return false
			}
			if _, err := w.Write(j); err != nil {
				return false
			}
			if _, err := fmt.Fprintf(w, "\r\n--%s\r\n", boundary); err != nil {
				return false
			}
			if fl != nil {
				fl.Flush()
			}
			return true
		}
		for {
			if gap > 0 {
				// A capped stream goes with a full-rate stream's picture when one flows: it wakes
				// a quarter gap early and sends with the next full-rate picture (at most half a
				// gap later), so its rate stays what was asked and both arrive together.
				wake := next // zero before the first picture: at once
				if !next.IsZero() && b.nextFull() != nil {
					wake = next.Add(-gap / 4)
				}
				if d := time.Until(wake); d > 0 {
					select {
					case <-time.After(d):
					case <-ended:
						return
					case <-r.Context().Done():
						return
					}
				}
				if full := b.nextFull(); full != nil && !next.IsZero() {
					t := time.NewTimer(gap / 2)
					select {
					case <-full:
						b.withFull.Add(1)
					case <-t.C:
					case <-ended:
						t.Stop()
						return
					case <-r.Context().Done():
						t.Stop()
						return
					}
					t.Stop()
				}
			}
			// A hidden window takes nothing but, now and then, the picture it already has.
			for shown := b.whenShown(); shown != nil; shown = b.whenShown() {
				beat := time.NewTimer(hiddenBeat)
				select {
				case <-shown:
				case <-beat.C:
					if last != nil && !send(last) {
						return
					}
				case <-f.done:
					beat.Stop()
					return
				case <-ended:
					beat.Stop()
					return
				case <-r.Context().Done():
					beat.Stop()
					return
				}
				beat.Stop()
			}
			j, s, ok := f.jpegAfter(r.Context(), ended, seq, width, true)
			if !ok {
				return
			}
			if j == nil { // hidden while it waited for the frame: wait to be shown (above)
				continue
			}
			if last == nil {
				log.Debug("render bridge: first frame to the stream", "bytes", len(j))
			}
			seq, next, last = s, time.Now().Add(gap), j
			if !send(j) {
				return
			}
			if gap == 0 {
				b.sentFull()
			} else {
				b.capped.Add(1)
			}
			sent++
			f.sent.Add(1)
		}
	default:
		http.NotFound(w, r)
	}
}

// Feed is one video picture in the bridge (a call's remote video or self-view).
type Feed struct {
	b       *Bridge
	token   string
	viewers atomic.Int32
	sent    atomic.Int64 // frames written to MJPEG viewers, all together
	onFrame atomic.Pointer[func(*image.YCbCr)]

	mu      sync.Mutex
	latest  *image.YCbCr
	seq     uint64          // number of the latest frame
	jpgs    map[int]encoded // the newest JPEG at each width viewers asked for (0: full size)
	notify  chan struct{}   // closed and replaced on each new frame
	done    chan struct{}   // closed by Close
	closed  bool
	pubTime time.Time
	enc     *jpeg.Encoder // made when the first viewer comes
}

// URL is the MJPEG stream's address; URL with ".jpg" in place of ".mjpeg" gives one frame.
func (f *Feed) URL() string {
	return fmt.Sprintf("http://%s/video/%s.mjpeg", f.b.addr(), f.token)
}

// hidden reports whether the window showing the feed cannot be seen (Bridge.SetShown): a call
// then skips decoding the video it would show.
func (f *Feed) hidden() bool { return f.b.whenShown() != nil }

// Publish hands the feed a new frame. The feed keeps img: the caller must not change it.
func (f *Feed) Publish(img *image.YCbCr) {
	if p := f.onFrame.Load(); p != nil && *p != nil {
		(*p)(img)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.latest = img
	f.seq++
	f.pubTime = time.Now()
	close(f.notify)
	f.notify = make(chan struct{})
}

// Close ends the feed's streams and removes it from the bridge.
func (f *Feed) Close() {
	f.mu.Lock()
	if !f.closed {
		f.closed = true
		close(f.notify)
		close(f.done)
		if f.enc != nil {
			_ = f.enc.Close()
			f.enc = nil
		}
	}
	f.mu.Unlock()
	f.b.mu.Lock()
	delete(f.b.feeds, f.token)
	f.b.mu.Unlock()
}

// encoded is one JPEG of frame seq.
type encoded struct {
	seq uint64
	jpg []byte
}

// queryInt reads a non-negative integer query parameter, 0 when absent or bad, at most limit.
func queryInt(r *http.Request, name string, limit int) int {
	v, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || v < 0 {
		return 0
	}
	return min(v, limit)
}

// jpegAfter waits for a frame newer than seq and returns its JPEG, shrunk to width (0: as it
// came), or false once ctx is done, ended is closed or the feed closed. With skipHidden, a window
// hidden while it waited gets no JPEG (nil, seq, true): a stream's loop checks for a hidden
// window before it waits, and nothing is encoded after.
func (f *Feed) jpegAfter(ctx context.Context, ended <-chan struct{}, seq uint64, width int, skipHidden bool) ([]byte, uint64, bool) {
	for {
		if skipHidden && f.hidden() {
			return nil, seq, true
		}
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			return nil, 0, false
		}
		if f.latest != nil && f.seq > seq {
			if width >= f.latest.Rect.Dx() {
				width = 0
			}
			if e := f.jpgs[width]; e.seq != f.seq {
				if f.enc == nil {
					enc, err := jpeg.NewEncoder()
					if err != nil {
						f.mu.Unlock()
						return nil, 0, false
					}
					f.enc = enc
				}
				// A new slice each time: viewers may still be writing the previous one.
				j, err := f.enc.Encode(make([]byte, 0, len(e.jpg)+4096), Downscale(f.latest, width), 75)
				if err != nil {
					f.mu.Unlock()
					return nil, 0, false
				}
				f.b.encodes.Add(1)
				if f.jpgs == nil || len(f.jpgs) > 8 { // widths nobody shows any more go
					f.jpgs = map[int]encoded{}
				}
				f.jpgs[width] = encoded{seq: f.seq, jpg: j}
			}
			e := f.jpgs[width]
			f.mu.Unlock()
			return e.jpg, e.seq, true
		}
		ch := f.notify
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ended:
			return nil, 0, false
		case <-ctx.Done():
			return nil, 0, false
		}
	}
}
