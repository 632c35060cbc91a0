package main

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// TestRecordingsInABucketFlags: -recordings s3://bucket/prefix with -s3-endpoint and the keys from
// the environment starts a hub that keeps recordings in the bucket (gofakes3 here); without keys,
// or with a bucket that is not there, it refuses to start; the secret key is never logged.
func TestRecordingsInABucketFlags(t *testing.T) {
	mem := s3mem.New()
	if err := mem.CreateBucket("calls"); err != nil {
		t.Fatal(err)
	}
	fake := httptest.NewServer(gofakes3.New(mem).Server())
	defer fake.Close()
	db := t.TempDir() + "/hub.db"

	m := &Main{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
	t.Setenv("PARLEY_S3_ACCESS_KEY", "")
	t.Setenv("PARLEY_S3_SECRET_KEY", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	if err := m.ParseFlags([]string{"-db", db, "-recordings", "s3://calls/parley", "-s3-endpoint", fake.URL}); err == nil || !strings.Contains(err.Error(), "PARLEY_S3_SECRET_KEY") {
		t.Errorf("without keys: %v; want to be told to set them", err)
	}
	if err := m.ParseFlags([]string{"-db", db, "-recordings", "s3:///x"}); err == nil {
		t.Error("-recordings s3:///x parsed; want a usage error (no bucket)")
	}

	t.Setenv("PARLEY_S3_ACCESS_KEY", "parley")
	t.Setenv("PARLEY_S3_SECRET_KEY", "very-secret-key-42")
	m = &Main{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
	if err := m.ParseFlags([]string{"-db", db, "-recordings", "s3://nope/parley", "-s3-endpoint", fake.URL, "-addr", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a bucket that is not there: Run = %v; want refused", err)
		m.Close()
	}

	hm, _ := run(t, "-db", db, "-recordings", "s3://calls/parley", "-s3-endpoint", fake.URL, "-s3-region", "eu-west-1", "-addr", "127.0.0.1:0")
	defer hm.Close()
	c := hm.Config.RecordingsS3
	if c == nil || c.Bucket != "calls" || c.Prefix != "parley" || !c.Insecure || c.Region != "eu-west-1" || strings.HasPrefix(c.Endpoint, "http") {
		t.Fatalf("Config.RecordingsS3 = %+v", c)
	}
	logs := hm.Stderr.(*bytes.Buffer).String()
	if !strings.Contains(logs, "recordings kept in a bucket") || strings.Contains(logs, "very-secret-key-42") {
		t.Errorf("logs = %q; want the bucket named and never the secret key", logs)
	}
}
