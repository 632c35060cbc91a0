package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "Parley", "policy.json")
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{\n  \"hub_url\": \"https://a.example\",\n  \"hubb\": 1\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		args      []string
		code      int
		out, errs string
	}{
		{"no args", nil, 2, "", "usage"},
		{"version", []string{"--version"}, 0, "parley-policy dev", ""},
		{"check missing", []string{"check", file}, 1, "", "no policy file"},
		{"set", []string{"set", "-file", file, "-hub-url", "https://hub.example.com", "-lock", "hub_url"}, 0, "wrote " + file, ""},
		{"set keeps what is there", []string{"set", "-file", file, "-region", "gcc", "-org", "acme", "-lock", "region,hub_url,org"}, 0, "wrote", ""},
		{"set refuses a bad organisation", []string{"set", "-file", file, "-org", "Acme Inc"}, 1, "", "organisation's id"},
		{"check", []string{"check", file}, 0, "locked           hub_url, region, org", ""},
		{"check shows the organisation", []string{"check", file}, 0, "org              acme", ""},
		{"set refuses a bad url", []string{"set", "-file", file, "-hub-url", "hub.example.com"}, 1, "", "https://"},
		{"set refuses a bad lock", []string{"set", "-file", file, "-lock", "hubb"}, 1, "", "not a setting"},
		{"check bad", []string{"check", bad}, 1, "", bad + ":3:3: unknown key"},
		{"install bad", []string{"install", bad, "-file", file}, 1, "", bad + ":3:3"},
		{"set over a bad file", []string{"set", "-file", bad, "-region", "eu"}, 1, "", bad + ":3:3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			code := run(tt.args, &out, &errs)
			if code != tt.code || !strings.Contains(out.String(), tt.out) || !strings.Contains(errs.String(), tt.errs) {
				t.Errorf("run(%q) = %d, stdout %q, stderr %q; want %d, %q, %q", tt.args, code, out.String(), errs.String(), tt.code, tt.out, tt.errs)
			}
		})
	}
	if data, _ := os.ReadFile(file); !strings.Contains(string(data), `"hub_url": "https://hub.example.com"`) || !strings.Contains(string(data), `"region": "gcc"`) {
		t.Errorf("policy after the refused changes = %s; want the last good one", data)
	}
}
