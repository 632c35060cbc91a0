package media

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// patternFeed opens a bridge with one feed that the 640x480 test pattern is published on at 30
// frames a second; when the test ends, ctx ends, the pattern stops and the bridge closes.
func patternFeed(t *testing.T) (*Bridge, *Feed, context.Context) {
	t.Helper()
	br, err := NewBridge(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { br.Close() })
	f := br.NewFeed()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go publishPattern(ctx, f, 0)
	return br, f, ctx
}

// publishPattern publishes the 640x480 test pattern on f at 30 frames a second, the first after
// delay, until ctx ends.
func publishPattern(ctx context.Context, f *Feed, delay time.Duration) {
	time.Sleep(delay)
	p := NewPattern(640, 480)
	tk := time.NewTicker(time.Second / 30)
	defer tk.Stop()
	for {
		f.Publish(p.Draw(time.Now()))
		select {
		case <-tk.C:
		case <-ctx.Done():
			return
		}
	}
}

// TestBridgeSizeAndRate: a viewer gets frames at the width it shows (?w=) and no faster than it
// asks (?fps=), while frames are published at 30 per second.
func TestBridgeSizeAndRate(t *testing.T) {
	_, f, ctx := patternFeed(t)
	one := strings.Replace(f.URL(), ".mjpeg", ".jpg", 1)

	for _, c := range []struct {
		query string
		w, h  int
	}{{"", 640, 480}, {"?w=320", 320, 240}, {"?w=97", 96, 72}, {"?w=5000", 640, 480}} {
		var img []byte
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			res, err := http.Get(one + c.query)
			if err != nil {
				t.Fatal(err)
			}
			img, _ = io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(img))
		if err != nil {
			t.Fatalf("GET .jpg%s: %v", c.query, err)
		}
		if cfg.Width != c.w || cfg.Height != c.h {
			t.Errorf("GET .jpg%s: %dx%d; want %dx%d", c.query, cfg.Width, cfg.Height, c.w, c.h)
		}
	}

	// Count the parts of a stream capped at 5 a second over two seconds. (No lower bound on an
	// uncapped stream: on a loaded machine the publisher itself may be slower than 30.)
	rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
	defer rcancel()
	req, _ := http.NewRequestWithContext(rctx, "GET", f.URL()+"?w=160&fps=5", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body) // ends with the deadline
	if n := bytes.Count(b, []byte("Content-Type: image/jpeg")); n > 12 || n < 2 {
		t.Errorf("?fps=5 sent %d frames in 2 s; want about 10, never more than 12", n)
	}
}

// TestBridgeHidden: while the window is hidden a viewer's stream stays open but carries no new
// picture and nothing is encoded, except the last picture repeated now and then; shown again, the
// same stream moves at once.
func TestBridgeHidden(t *testing.T) {
	beat := hiddenBeat
	hiddenBeat = 400 * time.Millisecond
	t.Cleanup(func() { hiddenBeat = beat }) // after the bridge closes
	br, f, ctx := patternFeed(t)
	req, _ := http.NewRequestWithContext(ctx, "GET", f.URL()+"?w=320", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var mu sync.Mutex
	var got []byte
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := res.Body.Read(buf)
			mu.Lock()
			got = append(got, buf[:n]...)
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	parts := func() int {
		mu.Lock()
		defer mu.Unlock()
		return bytes.Count(got, []byte("Content-Type: image/jpeg"))
	}
	waitParts := func(n int, what string) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); parts() < n; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("%s: %d pictures, want %d", what, parts(), n)
			}
		}
	}
	waitParts(3, "shown")

	br.SetShown(false)
	time.Sleep(200 * time.Millisecond) // a picture already on its way arrives
	enc, n := br.encodes.Load(), parts()
	time.Sleep(1100 * time.Millisecond) // 33 frames published, two beats
	if e := br.encodes.Load(); e != enc {
		t.Errorf("hidden: %d pictures encoded in 1.1 s; want none", e-enc)
	}
	if d := parts() - n; d < 1 || d > 3 {
		t.Errorf("hidden: %d pictures sent in 1.1 s; want only the repeated last one, every 0.4 s", d)
	}

	br.SetShown(true)
	n = parts()
	waitParts(n+5, "shown again, on the same stream")
	if br.encodes.Load() == enc {
		t.Error("shown again: nothing encoded")
	}
}

// TestBridgeEndsStreams: a stream ends, its connection closed, when EndStreams says its page is
// gone and when its feed closes, even while its viewer reads nothing any more (as WebKitGTK does
// with a load it keeps open); a stream started after EndStreams, at the feed's new URL on
// another port (the old one takes no new connection), carries pictures as before.
func TestBridgeEndsStreams(t *testing.T) {
	br, f, _ := patternFeed(t)
	var addr, path string
	at := func() {
		addr = strings.TrimPrefix(f.URL(), "http://")
		addr = addr[:strings.Index(addr, "/")]
		path = strings.TrimPrefix(f.URL(), "http://"+addr)
	}
	at()
	// open starts a stream on its own connection and reads its first picture.
	open := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, addr)
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		got := make([]byte, 0, 64<<10)
		buf := make([]byte, 4<<10)
		for !bytes.Contains(got, []byte("Content-Length")) {
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("first picture: %v (%q)", err, got)
			}
			got = append(got, buf[:n]...)
		}
		_ = c.SetReadDeadline(time.Time{})
		return c
	}
	// closed reads what is left of c and reports whether the bridge closed it within 10 s.
	closed := func(c net.Conn) bool {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := io.Copy(io.Discard, c)
		return err == nil // EOF
	}
	waitViewers := func(n int32) {
		t.Helper()
		for end := time.Now().Add(5 * time.Second); f.viewers.Load() != n; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("viewers = %d; want %d", f.viewers.Load(), n)
			}
		}
	}

	// Two viewers: one reads on, the other reads no more and its buffers fill; the page is
	// gone: both streams end.
	stuck, reading := open(), open()
	defer stuck.Close()
	defer reading.Close()
	readingEnded := make(chan bool, 1)
	go func() { readingEnded <- closed(reading) }()
	time.Sleep(2 * time.Second) // ~60 pictures: the stuck viewer's buffers are full
	if n := f.viewers.Load(); n != 2 {
		t.Fatalf("viewers = %d before EndStreams; want 2", n)
	}
	br.EndStreams()
	if !closed(stuck) {
		t.Error("EndStreams: the stream of a viewer that reads nothing did not end")
	}
	if !<-readingEnded {
		t.Error("EndStreams: a reading viewer's stream did not end")
	}
	waitViewers(0)

	// The reloaded page's stream, at the feed's new URL, works; a viewer that reads no more
	// ends with its feed.
	old := addr
	at()
	if addr == old {
		t.Fatalf("after EndStreams the feed's URL still names %s", old)
	}
	if c, err := net.DialTimeout("tcp", old, time.Second); err == nil {
		c.Close()
		t.Errorf("after EndStreams the old port %s still takes connections", old)
	}
	stuck = open()
	defer stuck.Close()
	time.Sleep(time.Second)
	waitViewers(1)
	f.Close()
	if !closed(stuck) {
		t.Error("feed closed: the stream of a viewer that reads nothing did not end")
	}
	waitViewers(0)
}

// TestBridgeCappedStreamGoesWithFullRate: a capped stream (the self view, ?fps=15, its own
// camera's clock half a frame behind the remote video's) sends each picture right after the
// full-rate stream's (the remote video), so the window paints both at once, and still at about
// the rate it asked.
func TestBridgeCappedStreamGoesWithFullRate(t *testing.T) {
	br, remote, ctx := patternFeed(t)
	self := br.NewFeed()
	go publishPattern(ctx, self, time.Second/60)
	// arrivals reads a stream's parts for 3 s and returns when each one ended.
	arrivals := func(url string) <-chan []time.Time {
		out := make(chan []time.Time, 1)
		go func() {
			var at []time.Time
			defer func() { out <- at }()
			rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(rctx, "GET", url, nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			defer res.Body.Close()
			mr := multipart.NewReader(res.Body, "parleyframe")
			for {
				p, err := mr.NextPart()
				if err != nil {
					return
				}
				if _, err := io.Copy(io.Discard, p); err != nil {
					return
				}
				at = append(at, time.Now())
			}
		}()
		return out
	}
	rc := arrivals(remote.URL() + "?w=320")
	sc := arrivals(self.URL() + "?w=96&fps=15")
	r, s := <-rc, <-sc
	if len(r) < 10 || len(s) < 5 {
		t.Fatalf("%d remote and %d self pictures in 3 s; want a flow of both", len(r), len(s))
	}
	// Skip the first second (the streams start unaligned); then each self picture should come
	// within a few ms of a remote one (before or after: the two readers here run in the same busy
	// process), where its own clock puts it about 17 ms from both.
	var lags []time.Duration
	for _, a := range s {
		if a.Sub(s[0]) < time.Second {
			continue
		}
		i := sort.Search(len(r), func(i int) bool { return r[i].After(a) })
		near := time.Hour
		if i < len(r) {
			near = r[i].Sub(a)
		}
		if i > 0 {
			near = min(near, a.Sub(r[i-1]))
		}
		lags = append(lags, near)
	}
	slices.Sort(lags)
	if len(lags) < 4 {
		t.Fatalf("%d self pictures after the first second; want about 30", len(lags))
	}
	// Whether a picture went out on a remote one's is the bridge's to say: the arrival times
	// above are the readers' too, and under the race detector on a loaded machine they wander
	// by several ms (a median of 10.5 ms failed a 4 ms limit in CI while the bridge aligned).
	// The old code sent none on a remote picture. Quiet, 44 of 45 go with one; with the race
	// detector and the machine's two cores running five times their work, 41-81 % did (the
	// remote stream itself then comes late, and a self picture waits for it only half a gap).
	capped, with := br.capped.Load(), br.withFull.Load()
	if with*4 < capped {
		t.Errorf("%d of %d self pictures went out on a remote picture; want at least a quarter", with, capped)
	}
	t.Logf("%d of %d self pictures sent on a remote one; arrival %v from the nearest remote (median of %d)", with, capped, lags[len(lags)/2], len(lags))
	// About 45 (half the full-rate stream's 90); on a starved machine both come slower.
	if n := len(s); n > 48 || n < len(r)/3 {
		t.Errorf("?fps=15 sent %d pictures in 3 s (the full-rate stream %d); want about half as many, at most 48", n, len(r))
	}
}
