package hub_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/wire"
)

// TestRecordingsInABucket: with -recordings s3://bucket/prefix the hub keeps recordings in an
// S3-compatible bucket (gofakes3 in this process: the only S3 server available offline here). A
// cut upload resumes on the hub's disk and the finished, checksum-verified file is moved to the
// bucket; the playback page's links stream it with ranges; an admin's deletion and the retention
// sweep delete it from the bucket.
func TestRecordingsInABucket(t *testing.T) {
	t.Parallel()
	mem, endpoint := fakeBucket(t)
	s3cfg, err := hub.ParseS3URL("s3://rec/parley/calls")
	if err != nil {
		t.Fatal(err)
	}
	s3cfg.Endpoint, s3cfg.Region, s3cfg.Insecure = endpoint, "us-east-1", true
	s3cfg.AccessKey, s3cfg.SecretKey = "test-key", "test-secret"
	var staging string
	rg := newCallRig(t, func(c *hub.Config) {
		c.RecordingsS3 = &s3cfg
		if staging = c.RecordingsDir; staging == "" {
			staging = filepath.Join(filepath.Dir(c.DB), "recordings")
		}
	})
	setRecording(t, rg.s, `{"mode":"always","retention_days":30}`)
	id := rg.invite(t, wire.CallVideo)
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id, Video: true, Record: true}); err != nil {
		t.Fatal(err)
	}
	rg.agent.callState(id, wire.CallActive)
	key := "parley/calls/demo/" + string(rg.conv.ID) + "/" + string(id) + "/"
	if _, err := mem.HeadObject("rec", key+"recording.json"); err != nil {
		t.Fatalf("the consent record in the bucket: %v", err)
	}

	base := rg.s.URL() + "/api/v1/orgs/demo/conversations/" + string(rg.conv.ID) + "/calls/" + string(id)
	agentTok, super := demoToken(t, rg.s, "agent1"), demoToken(t, rg.s, "super1")
	big := make([]byte, 6<<20)
	_, _ = rand.Read(big)
	var off int
	for try := 0; try < 5 && off == 0; try++ {
		cutUpload(t, base+"/recordings/customer.webm", agentTok, big, 2<<20)
		for end := time.Now().Add(2 * time.Second); off == 0 && time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			_, _, hdr := httpDo(t, "HEAD", base+"/recordings/customer.webm", agentTok, nil, nil)
			off, _ = strconv.Atoi(hdr.Get("X-Parley-Offset"))
		}
	}
	if off <= 0 || off >= len(big) {
		t.Fatalf("HEAD after a cut upload: offset %d; want part of it", off)
	}
	if _, err := mem.HeadObject("rec", key+"customer.webm"); err == nil {
		t.Error("half an upload is in the bucket; want it on the hub's disk until it is whole")
	}
	if st, body, _ := httpDo(t, "PUT", base+"/recordings/customer.webm", agentTok, bytes.NewReader(big[off:]),
		map[string]string{wire.HeaderSHA256: sum(big), "X-Parley-Offset": strconv.Itoa(off)}); st != 200 {
		t.Fatalf("resumed upload = %d %s", st, body)
	}
	if o, err := mem.HeadObject("rec", key+"customer.webm"); err != nil || o.Size != int64(len(big)) {
		t.Fatalf("the finished file in the bucket: %+v, %v; want %d bytes", o, err, len(big))
	}
	if parts, _ := filepath.Glob(filepath.Join(staging, "demo", "*", "*", "*")); len(parts) != 0 {
		t.Errorf("left on the hub's disk after the move: %v", parts)
	}
	if _, _, hdr := httpDo(t, "HEAD", base+"/recordings/customer.webm", agentTok, nil, nil); hdr.Get("X-Parley-Offset") != strconv.Itoa(len(big)) || hdr.Get(wire.HeaderSHA256) != sum(big) {
		t.Errorf("HEAD of the stored file = %s %s; want its size and checksum", hdr.Get("X-Parley-Offset"), hdr.Get(wire.HeaderSHA256))
	}
	tampered := []byte("not what was signed")
	if st, _, _ := httpDo(t, "PUT", base+"/recordings/agent.webm", agentTok, bytes.NewReader(tampered), map[string]string{wire.HeaderSHA256: sum(big)}); st != 400 {
		t.Errorf("a tampered upload = %d; want 400", st)
	}
	if _, err := mem.HeadObject("rec", key+"agent.webm"); err == nil {
		t.Error("a tampered file reached the bucket")
	}

	// Listed and played from the bucket, with ranges.
	st, body, _ := httpDo(t, "GET", rg.s.URL()+"/api/v1/orgs/demo/conversations/"+string(rg.conv.ID)+"/recordings", super, nil, nil)
	if st != 200 || !strings.Contains(body, `"track":"customer.webm"`) || !strings.Contains(body, sum(big)) {
		t.Fatalf("list = %d %s", st, body)
	}
	st, raw, _ := httpDo(t, "POST", base+"/playback", super, nil, nil)
	var p wire.Playback
	if err := json.Unmarshal([]byte(raw), &p); st != 200 || err != nil || len(p.Files) != 1 {
		t.Fatalf("playback = %d %s", st, raw)
	}
	st, body, hdr := httpDo(t, "GET", rg.s.URL()+p.Files[0].URL, "", nil, map[string]string{"Range": "bytes=5000000-5000999"})
	if st != 206 || body != string(big[5000000:5001000]) || hdr.Get("Content-Range") != "bytes 5000000-5000999/"+strconv.Itoa(len(big)) {
		t.Errorf("a range from the bucket = %d, %d bytes, %q; want 206 with those bytes", st, len(body), hdr.Get("Content-Range"))
	}

	// Retention reaches the bucket: nothing younger than 30 days goes; 31 days later it does.
	rg.s.ExpireRecordings(ctx(t))
	if _, err := mem.HeadObject("rec", key+"customer.webm"); err != nil {
		t.Fatalf("a recent recording expired: %v", err)
	}
	rg.clk.advance(31 * 24 * time.Hour)
	rg.s.ExpireRecordings(ctx(t))
	for _, k := range []string{"customer.webm", "customer.webm.sha256", "recording.json"} {
		if _, err := mem.HeadObject("rec", key+k); err == nil {
			t.Errorf("%s still in the bucket after the retention", k)
		}
	}
}

// TestRecordingDeletionReachesTheBucket: an admin's deletion removes the call's objects.
func TestRecordingDeletionReachesTheBucket(t *testing.T) {
	t.Parallel()
	mem, endpoint := fakeBucket(t)
	s3cfg := hub.S3Config{Bucket: "rec", Endpoint: endpoint, Region: "us-east-1", Insecure: true, AccessKey: "k", SecretKey: "s"}
	rg := newCallRig(t, func(c *hub.Config) { c.RecordingsS3 = &s3cfg })
	setRecording(t, rg.s, `{"mode":"always"}`)
	id := rg.invite(t, wire.CallVoice)
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id, Record: true}); err != nil {
		t.Fatal(err)
	}
	rg.agent.callState(id, wire.CallActive)
	base := rg.s.URL() + "/api/v1/orgs/demo/conversations/" + string(rg.conv.ID) + "/calls/" + string(id)
	file := []byte("a small recording")
	if st, body, _ := httpDo(t, "PUT", base+"/recordings/agent.webm", demoToken(t, rg.s, "agent1"), bytes.NewReader(file), map[string]string{wire.HeaderSHA256: sum(file)}); st != 200 {
		t.Fatalf("upload = %d %s", st, body)
	}
	key := "demo/" + string(rg.conv.ID) + "/" + string(id) + "/"
	if _, err := mem.HeadObject("rec", key+"agent.webm"); err != nil {
		t.Fatalf("uploaded file in the bucket (no prefix): %v", err)
	}
	if st, body, _ := httpDo(t, "DELETE", base+"/recordings", demoToken(t, rg.s, "admin1"), nil, nil); st != 200 {
		t.Fatalf("delete = %d %s", st, body)
	}
	for _, k := range []string{"agent.webm", "agent.webm.sha256", "recording.json"} {
		if _, err := mem.HeadObject("rec", key+k); err == nil {
			t.Errorf("%s still in the bucket after the admin's deletion", k)
		}
	}
}

// fakeBucket serves an empty bucket "rec" from gofakes3 in this process; it returns the backend
// (to look inside) and the server's host:port.
func fakeBucket(t *testing.T) (*s3mem.Backend, string) {
	t.Helper()
	mem := s3mem.New()
	if err := mem.CreateBucket("rec"); err != nil {
		t.Fatal(err)
	}
	fake := httptest.NewServer(gofakes3.New(mem).Server())
	t.Cleanup(fake.Close)
	return mem, strings.TrimPrefix(fake.URL, "http://")
}
