// Package portal serves the customer portal that the hub embeds: the chat page at /chat/{org}, the
// embed loader at /widget.js and the page's hashed assets under /portal/assets/, all built by Vite
// into portal/dist (npm run build:portal) and compiled into the binary.
package portal

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/wire"
)

//go:embed all:dist
var dist embed.FS

// AssetsPrefix is where the hashed assets are served; it matches `base` in portal/vite.config.ts.
const AssetsPrefix = "/portal/assets/"

// file is one embedded file, ready to serve.
type file struct {
	body []byte
	// gz is body gzipped, or nil when that does not make it smaller.
	gz    []byte
	ctype string
	etag  string
}

// handler serves the embedded portal.
type handler struct {
	// index is the chat page; nil when the portal was not built.
	index *file
	// widget is the embed loader; nil when the portal was not built.
	widget *file
	// assets maps a file name under AssetsPrefix to the file.
	assets map[string]*file
	mux    *http.ServeMux
}

// orgPattern is what an organisation id in a portal URL may look like.
var orgPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// hostPattern guards the Host header before it goes into the Content-Security-Policy.
var hostPattern = regexp.MustCompile(`^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)

// Handler returns the portal's HTTP handler: GET /chat/{org}, GET /widget.js and
// GET /portal/assets/*. Anything else is a 404 with a wire.Error body. The hub mounts it at "/"
// as its fallback.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// Cannot happen with a valid embed pattern; serve "not built" rather than fail.
		sub = dist
	}
	return newHandler(sub)
}

func newHandler(fsys fs.FS) *handler {
	h := &handler{assets: map[string]*file{}, mux: http.NewServeMux()}
	h.index = load(fsys, "index.html")
	h.widget = load(fsys, "widget.js")
	entries, _ := fs.ReadDir(fsys, "assets")
	for _, e := range entries {
		if !e.IsDir() {
			h.assets[e.Name()] = load(fsys, "assets/"+e.Name())
		}
	}
	h.mux.HandleFunc("GET /chat/{org}", h.serveChat)
	h.mux.HandleFunc("GET /chat/{org}/{$}", h.serveChat)
	h.mux.HandleFunc("GET /widget.js", h.serveWidget)
	h.mux.HandleFunc("GET "+AssetsPrefix+"{name}", h.serveAsset)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, wire.Errorf(wire.ENOTFOUND, "no such page"))
	})
	return h
}

// load reads and prepares one file; nil when it does not exist.
func load(fsys fs.FS, name string) *file {
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(body)
	f := &file{body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	f.ctype = mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".js", ".mjs":
		f.ctype = "text/javascript; charset=utf-8"
	case ".html":
		f.ctype = "text/html; charset=utf-8"
	case ".css":
		f.ctype = "text/css; charset=utf-8"
	}
	if f.ctype == "" {
		f.ctype = http.DetectContentType(body)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(body); err == nil && zw.Close() == nil && buf.Len() < len(body) {
		f.gz = buf.Bytes()
	}
	return f
}

// ServeHTTP implements http.Handler.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
}

// serveChat serves the app's page for any organisation; the app reads the org from the URL and asks
// the hub's API whether it exists.
func (h *handler) serveChat(w http.ResponseWriter, r *http.Request) {
	if !orgPattern.MatchString(r.PathValue("org")) {
		writeError(w, wire.Errorf(wire.ENOTFOUND, "no such organisation"))
		return
	}
	if h.index == nil {
		writeError(w, wire.Errorf(wire.EUNAVAILABLE, "the portal was not built (npm run build:portal)"))
		return
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp(r))
	hd.Set("Referrer-Policy", "same-origin")
	// The page must be allowed in frames: it is the widget's iframe on customers' sites.
	hd.Set("Cache-Control", "no-cache")
	serve(w, r, h.index)
}

// csp allows only the hub itself: scripts, styles and the WebSocket; no inline script; any site may
// frame the page.
func csp(r *http.Request) string {
	connect := "'self'"
	if hostPattern.MatchString(r.Host) {
		connect += " ws://" + r.Host + " wss://" + r.Host
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"font-src 'self'",
		"connect-src " + connect,
		"frame-ancestors *",
		"base-uri 'none'",
		"form-action 'none'",
	}, "; ")
}

// serveWidget serves the embed loader with a short cache, so a new release reaches host pages soon.
func (h *handler) serveWidget(w http.ResponseWriter, r *http.Request) {
	if h.widget == nil {
		writeError(w, wire.Errorf(wire.EUNAVAILABLE, "the portal was not built (npm run build:portal)"))
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	serve(w, r, h.widget)
}

// serveAsset serves a content-hashed file: it never changes, so it is cached for a year.
func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request) {
	f := h.assets[r.PathValue("name")]
	if f == nil {
		writeError(w, wire.Errorf(wire.ENOTFOUND, "no such asset"))
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	serve(w, r, f)
}

// serve writes f, gzipped when the client accepts it, answering If-None-Match with 304.
func serve(w http.ResponseWriter, r *http.Request, f *file) {
	hd := w.Header()
	hd.Set("Content-Type", f.ctype)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("ETag", f.etag)
	hd.Add("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if f.gz != nil && acceptsGzip(r) {
		hd.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(part, ";")
		if strings.TrimSpace(enc) != "gzip" {
			continue
		}
		q, ok := strings.CutPrefix(strings.TrimSpace(params), "q=")
		if !ok {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}

// writeError answers with a wire.Error body, as every Parley HTTP failure does.
func writeError(w http.ResponseWriter, e *wire.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Code.HTTPStatus())
	_ = json.NewEncoder(w).Encode(e)
}
