package portal

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/wire"
)

// built returns the handler over the embedded dist, failing when the portal was not built first.
func built(t *testing.T) *handler {
	t.Helper()
	h := Handler().(*handler)
	if h.index == nil || h.widget == nil || len(h.assets) == 0 {
		t.Fatal("portal/dist is empty: run `npm run build:portal` (make web) before go test")
	}
	return h
}

func get(h http.Handler, method, target string, hdr map[string]string) *http.Response {
	req := httptest.NewRequest(method, target, nil)
	req.Host = "hub.example:8080"
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestHandler(t *testing.T) {
	h := built(t)
	var asset string
	for name := range h.assets {
		if strings.HasSuffix(name, ".js") {
			asset = AssetsPrefix + name
		}
	}
	tests := []struct {
		name, method, target string
		status               int
		ctype, cache         string
	}{
		{"chat page", "GET", "/chat/demo", 200, "text/html; charset=utf-8", "no-cache"},
		{"chat page, trailing slash", "GET", "/chat/demo/", 200, "text/html; charset=utf-8", "no-cache"},
		{"chat page with embed", "GET", "/chat/demo?embed=1", 200, "text/html; charset=utf-8", "no-cache"},
		{"chat page HEAD", "HEAD", "/chat/demo", 200, "text/html; charset=utf-8", "no-cache"},
		{"loader", "GET", "/widget.js", 200, "text/javascript; charset=utf-8", "public, max-age=300"},
		{"hashed asset", "GET", asset, 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		{"unknown asset", "GET", AssetsPrefix + "nope.js", 404, "application/json", ""},
		{"unknown path", "GET", "/nope", 404, "application/json", ""},
		{"root", "GET", "/", 404, "application/json", ""},
		{"chat without org", "GET", "/chat/", 404, "application/json", ""},
		{"bad org", "GET", "/chat/..%2f..", 404, "application/json", ""},
		{"nested under chat", "GET", "/chat/demo/x", 404, "application/json", ""},
		{"POST to the page", "POST", "/chat/demo", 404, "application/json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(h, tt.method, tt.target, nil)
			if res.StatusCode != tt.status {
				t.Fatalf("%s %s = %d; want %d", tt.method, tt.target, res.StatusCode, tt.status)
			}
			if got := res.Header.Get("Content-Type"); tt.ctype != "" && got != tt.ctype {
				t.Errorf("Content-Type = %q; want %q", got, tt.ctype)
			}
			if got := res.Header.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control = %q; want %q", got, tt.cache)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q; want nosniff", got)
			}
			if tt.status == 404 {
				var e wire.Error
				if err := json.NewDecoder(res.Body).Decode(&e); err != nil || e.Code != wire.ENOTFOUND {
					t.Errorf("404 body = %+v (%v); want code ENOTFOUND", e, err)
				}
			}
		})
	}
}

func TestChatPage(t *testing.T) {
	h := built(t)
	res := get(h, "GET", "/chat/demo", nil)
	body, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(body), `<div id="app">`) || !strings.Contains(string(body), `src="/portal/assets/`) {
		t.Errorf("/chat/demo is not the app's index.html:\n%s", body)
	}
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]`).Match(body) {
		t.Errorf("index.html has an inline script, which the CSP forbids:\n%s", body)
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self' ws://hub.example:8080 wss://hub.example:8080", "frame-ancestors *"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q allows inline code", csp)
	}
	if xfo := res.Header.Get("X-Frame-Options"); xfo != "" {
		t.Errorf("X-Frame-Options = %q; the page must be frameable (it is the widget's iframe)", xfo)
	}
}

func TestCSPIgnoresAForgedHost(t *testing.T) {
	h := built(t)
	req := httptest.NewRequest("GET", "/chat/demo", nil)
	req.Host = "evil; script-src *"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if csp := rec.Header().Get("Content-Security-Policy"); strings.Contains(csp, "evil") {
		t.Errorf("CSP %q carries the forged Host", csp)
	}
}

func TestGzipAndETag(t *testing.T) {
	h := built(t)
	res := get(h, "GET", "/widget.js", map[string]string{"Accept-Encoding": "br, gzip"})
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q; want gzip", res.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if string(plain) != string(h.widget.body) {
		t.Error("gzipped widget.js does not decompress to the file")
	}
	if res := get(h, "GET", "/widget.js", map[string]string{"Accept-Encoding": "gzip;q=0"}); res.Header.Get("Content-Encoding") != "" {
		t.Error("gzip sent to a client that refused it (q=0)")
	}
	etag := res.Header.Get("ETag")
	if res := get(h, "GET", "/widget.js", map[string]string{"If-None-Match": etag}); res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with the current ETag = %d; want 304", res.StatusCode)
	}
}

func TestNotBuilt(t *testing.T) {
	h := newHandler(emptyFS{})
	for _, target := range []string{"/chat/demo", "/widget.js"} {
		if res := get(h, "GET", target, nil); res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("GET %s without a build = %d; want 503", target, res.StatusCode)
		}
	}
}

// TestBudget checks the widget's weight, gzipped, as a host page and a phone download it: the
// loader ≤ 5 KB and the chat page's first load (index.html, its script and its styles) ≤ 60 KB.
func TestBudget(t *testing.T) {
	h := built(t)
	loader := len(h.widget.gz)
	first := len(h.index.gz)
	if first == 0 {
		first = len(h.index.body)
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="`+AssetsPrefix+`([^"]+)"`).FindAllStringSubmatch(string(h.index.body), -1) {
		f := h.assets[m[1]]
		if f == nil {
			t.Fatalf("index.html references %s, which is not embedded", m[1])
		}
		first += len(f.gz)
	}
	t.Logf("gzipped: loader %d bytes, chat first load %d bytes", loader, first)
	if loader > 5*1024 {
		t.Errorf("widget.js is %d bytes gzipped; budget 5 KB", loader)
	}
	if first > 60*1024 {
		t.Errorf("the chat's first load is %d bytes gzipped; budget 60 KB", first)
	}
}

type emptyFS struct{}

func (emptyFS) Open(string) (fs.File, error) { return nil, fs.ErrNotExist }
