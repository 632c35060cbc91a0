package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/internal/logbuf"
)

// Review: the headless agent logged the screen share's loopback MJPEG URL with its token, so
// anyone reading the log (a shared CI artefact, a support bundle) could watch the customer's
// screen. The log shows the URL without its token; -screenshare-urls gets it whole, in a file
// only the agent's user can read.
func TestScreenShareURLTokenKeptOutOfTheLog(t *testing.T) {
	var log logbuf.Buffer
	urls := filepath.Join(t.TempDir(), "urls")
	m := &Main{log: slog.New(slog.NewTextHandler(&log, nil))}
	m.cb.screen, m.cb.urls = true, urls
	const token = "s3cr3t-stream-token"
	url := "http://127.0.0.1:40123/screenshare/v1/" + token
	m.cobrowseEvent(app.ScreenShareView{Visual: "v1", URL: url, Connection: "connected", Frames: true, Width: 1280, Height: 720}, nil)

	if got := log.String(); strings.Contains(got, token) || !strings.Contains(got, "http://127.0.0.1:40123/screenshare/v1/…") {
		t.Errorf("log = %q; want the URL without its token", got)
	}
	data, err := os.ReadFile(urls)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "v1 "+url+"\n" {
		t.Errorf("-screenshare-urls file = %q; want the whole URL", data)
	}
	if fi, err := os.Stat(urls); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("-screenshare-urls file mode = %v; want 0600", fi.Mode().Perm())
	}
}
