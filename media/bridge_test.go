package media

import (
	"bytes"
	"context"
	"image/jpeg"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBridgeSizeAndRate: a viewer gets frames at the width it shows (?w=) and no faster than it
// asks (?fps=), while frames are published at 30 per second.
func TestBridgeSizeAndRate(t *testing.T) {
	br, err := NewBridge(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	f := br.NewFeed()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
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
	}()
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
