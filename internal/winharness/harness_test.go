package winharness

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// doneCall finds the id the wrapped script reports its answer under.
var doneCall = regexp.MustCompile(`Bridge\.Done\("(\d+)"`)

func post(t *testing.T, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/eval", strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestEvalRoundTrip(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	url, err := h.Listen(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Before the page loaded: 503, so a test knows to wait.
	if code, _ := post(t, url, h.Token(), `{"script":"1"}`); code != http.StatusServiceUnavailable {
		t.Fatalf("before load: status %d; want 503", code)
	}

	// A stand-in window: answers each script with the script's id, out of order with the
	// requests, as a page's async work would.
	scripts := make(chan string, 10)
	h.SetExec(func(js string) {
		scripts <- js
		id := doneCall.FindStringSubmatch(js)[1]
		go func() {
			time.Sleep(10 * time.Millisecond)
			h.Bridge().Done(id, `{"ok":true,"value":"`+id+`"}`)
		}()
	})

	if code, _ := post(t, url, "", `{"script":"1"}`); code != http.StatusUnauthorized {
		t.Errorf("no token: status %d; want 401", code)
	}
	if code, _ := post(t, url, "wrong", `{"script":"1"}`); code != http.StatusUnauthorized {
		t.Errorf("wrong token: status %d; want 401", code)
	}
	if code, _ := post(t, url, h.Token(), `{"nope":1}`); code != http.StatusBadRequest {
		t.Errorf("no script: status %d; want 400", code)
	}
	code, body := post(t, url, h.Token(), `{"script":"document.title"}`)
	if code != http.StatusOK || body != `{"ok":true,"value":"1"}` {
		t.Errorf("eval = %d %s; want 200 with the answer to script 1", code, body)
	}
	last := <-scripts
	if !strings.Contains(last, `await (document.title`) {
		t.Errorf("the script is not inside the wrapper:\n%s", last)
	}

	// A script that never answers times out with 504, and its late answer goes nowhere.
	h.SetExec(func(string) {})
	if code, _ := post(t, url, h.Token(), `{"script":"new Promise(() => {})","timeout_ms":50}`); code != http.StatusGatewayTimeout {
		t.Errorf("silent script: status %d; want 504", code)
	}
	h.Bridge().Done("2", `{"ok":true}`)
	h.mu.Lock()
	n := len(h.waiting)
	h.mu.Unlock()
	if n != 0 {
		t.Errorf("%d answers still awaited", n)
	}
}
