package policy

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Policy
	}{
		{"empty object", `{}`, Policy{Path: "p.json"}},
		{"full", `{
  "hub_url": "https://hub.example.com/parley",
  "region": "gcc",
  "provider": "acme-cobrowse",
  "allowed_devices": {"cameras": ["Logitech*"], "microphones": [], "speakers": ["*Jabra*", "Speakers (?)"]},
  "locked": ["hub_url", "region", "camera"]
}`, Policy{
			Path: "p.json", HubURL: "https://hub.example.com/parley", Region: "gcc", Provider: "acme-cobrowse",
			AllowedDevices: Devices{Cameras: []string{"Logitech*"}, Microphones: []string{}, Speakers: []string{"*Jabra*", "Speakers (?)"}},
			Locked:         []Setting{SettingHubURL, SettingRegion, SettingCamera},
		}},
		{"utf-8 byte-order mark", "\xEF\xBB\xBF{\"hub_url\": \"http://10.0.0.5:8080\"}", Policy{Path: "p.json", HubURL: "http://10.0.0.5:8080"}},
		{"lock a device setting without a value", `{"locked": ["microphone", "language"]}`, Policy{Path: "p.json", Locked: []Setting{SettingMicrophone, SettingLanguage}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("p.json", []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) = %#v; want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseUTF16(t *testing.T) {
	// Windows PowerShell 5's Out-File writes UTF-16LE with a byte-order mark.
	src := "{\r\n  \"hub_url\": \"https://hub.example.com\",\r\n  \"bogus\": 1\r\n}"
	u := utf16.Encode([]rune(src))
	data := []byte{0xFF, 0xFE}
	for _, c := range u {
		data = append(data, byte(c), byte(c>>8))
	}
	_, err := Parse("p.json", data)
	var fe *FileError
	if !errors.As(err, &fe) || fe.Line != 3 || fe.Column != 3 || !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Parse(UTF-16 with unknown key) = %v; want unknown key at 3:3", err)
	}
	data = data[:0:0]
	data = append(data, 0xFF, 0xFE)
	for _, c := range utf16.Encode([]rune(`{"region": "gcc"}`)) {
		data = append(data, byte(c), byte(c>>8))
	}
	if p, err := Parse("p.json", data); err != nil || p.Region != "gcc" {
		t.Errorf("Parse(UTF-16 valid) = %+v, %v; want region gcc", p, err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		line, col int
		is        error
		mention   string
	}{
		{"empty file", "  \n", 0, 0, ErrSyntax, "empty"},
		{"not an object", `["hub_url"]`, 1, 1, ErrSyntax, "JSON object"},
		{"missing comma", "{\n  \"hub_url\": \"https://a.example\"\n  \"region\": \"gcc\"\n}", 3, 3, ErrSyntax, "invalid character"},
		{"trailing comma", "{\n  \"region\": \"gcc\",\n}", 3, 1, ErrSyntax, ""},
		{"truncated", "{\n  \"region\": \"gcc\"", 2, 18, ErrSyntax, "ends before"},
		{"bad value after others", "{\"hub_url\": \"https://a.example\", \"allowed_devices\": {\"cameras\": [\"x\"]},\n \"locked\": [\"hub_url\",]}", 2, 23, ErrSyntax, "beginning of value"},
		{"comment", "{\n  // IT: pin the hub\n  \"hub_url\": \"https://a.example\"\n}", 2, 3, ErrSyntax, ""},
		{"text after the object", "{}\n{}", 2, 1, ErrSyntax, "after the closing"},
		{"unknown key", "{\n  \"hub_url\": \"https://a.example\",\n  \"hubURL\": \"https://b.example\"\n}", 3, 3, ErrUnknownKey, `"hubURL"`},
		{"unknown nested key", "{\"allowed_devices\": {\n\t\"webcams\": []}}", 2, 2, ErrUnknownKey, "allowed_devices.webcams"},
		{"duplicate key", "{\"region\": \"gcc\",\n \"region\": \"eu\"}", 2, 2, ErrDuplicateKey, "twice"},
		{"wrong type", "{\"hub_url\": 8080}", 1, 13, ErrInvalidValue, "must be a string, not a number"},
		{"null", "{\"region\": null}", 1, 12, ErrInvalidValue, "not null"},
		{"ftp url", `{"hub_url": "ftp://a.example"}`, 1, 13, ErrInvalidValue, "https://"},
		{"url without host", `{"hub_url": "https://"}`, 1, 13, ErrInvalidValue, "no host"},
		{"url with password", `{"hub_url": "https://bob:pw@a.example"}`, 1, 13, ErrInvalidValue, "password"},
		{"url with query", `{"hub_url": "https://a.example/?x=1"}`, 1, 13, ErrInvalidValue, "query"},
		{"bare host", `{"hub_url": "hub.example.com"}`, 1, 13, ErrInvalidValue, "https://"},
		{"region case", `{"region": "GCC"}`, 1, 12, ErrInvalidValue, "lower-case"},
		{"unknown locked setting", "{\"hub_url\": \"https://a.example\",\n \"locked\": [\"hub_url\", \"hub\"]}", 2, 24, ErrInvalidValue, `"hub" is not a setting`},
		{"locked hub without url", "{\n\"locked\": [\"region\", \"hub_url\"], \"region\": \"gcc\"}", 2, 22, ErrInvalidValue, "sets no hub_url"},
		{"locked not a list", `{"locked": "hub_url"}`, 1, 12, ErrInvalidValue, "list of strings"},
		{"device entry not a string", "{\"allowed_devices\": {\"cameras\": [\"a\", 3]}}", 1, 39, ErrInvalidValue, "entry must be a string"},
		{"empty device pattern", "{\"allowed_devices\": {\"speakers\": [\" \"]}}", 1, 35, ErrInvalidValue, "empty device pattern"},
		{"devices not an object", `{"allowed_devices": ["x"]}`, 1, 21, ErrInvalidValue, "must be an object"},
		{"column counts characters", "{\"región\": 1}", 1, 2, ErrUnknownKey, "región"},
		{"latin-1", "{\"region\": \"caf\xe9\"}", 0, 0, ErrEncoding, "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("/etc/parley/policy.json", []byte(tt.in))
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse(%q) error = %v; want a *FileError", tt.in, err)
			}
			if fe.Path != "/etc/parley/policy.json" || fe.Line != tt.line || fe.Column != tt.col {
				t.Errorf("Parse(%q) error at %s:%d:%d; want %d:%d (%v)", tt.in, fe.Path, fe.Line, fe.Column, tt.line, tt.col, err)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("Parse(%q) error = %v; want it to match %v", tt.in, err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.mention) || !strings.HasPrefix(err.Error(), "policy file /etc/parley/policy.json") {
				t.Errorf("Parse(%q) error = %q; want it to name the file and mention %q", tt.in, err, tt.mention)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "none.json")
	_, err := Load(missing)
	if !errors.Is(err, ErrNoPolicy) || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load(missing) = %v; want ErrNoPolicy and fs.ErrNotExist naming the file", err)
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{\n  \"hub_url\": \"https://a.example\",\n  \"locked\": [\"hub_url\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	if want := "policy file " + bad + ":4:1: "; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Load(bad) = %v; want prefix %q", err, want)
	}

	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, make([]byte, maxFileBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("Load(big) = %v; want ErrInvalidValue", err)
	}
}

func TestWriteRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Parley", "policy.json")
	want := Policy{
		HubURL: "https://hub.example.com", Region: "gcc",
		AllowedDevices: Devices{Cameras: []string{}, Microphones: []string{"Jabra*"}},
		Locked:         []Setting{SettingHubURL, SettingCamera},
	}
	if err := Write(path, want); err != nil {
		t.Fatalf("Write: %v", err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatalf("Load after Write: %v", err)
	}
	want.Path = path
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load(Write(p)) = %#v; want %#v", got, want)
	}
	if got.AllowsDevice(Cameras, "Any camera") {
		t.Error("an empty camera list must survive the round trip and allow no camera")
	}

	if err := Write(path, Policy{HubURL: "hub.example.com"}); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("Write(invalid) = %v; want ErrInvalidValue", err)
	}
	if again, err := Load(path); err != nil || again.HubURL != want.HubURL {
		t.Errorf("a refused Write must leave the old file: Load = %+v, %v", again, err)
	}
}

func TestIsLockedAndDevices(t *testing.T) {
	p := Policy{
		Locked:         []Setting{SettingHubURL},
		AllowedDevices: Devices{Cameras: []string{"logitech*", "Integrated ?amera"}, Speakers: []string{}},
	}
	if !p.IsLocked(SettingHubURL) || p.IsLocked(SettingRegion) {
		t.Errorf("IsLocked: hub_url %v region %v; want true false", p.IsLocked(SettingHubURL), p.IsLocked(SettingRegion))
	}
	var zero Policy
	if zero.Managed() || zero.IsLocked(SettingHubURL) || !zero.AllowsDevice(Cameras, "x") {
		t.Error("the zero Policy must be unmanaged, lock nothing and allow every device")
	}
	tests := []struct {
		kind  DeviceKind
		label string
		want  bool
	}{
		{Cameras, "Logitech BRIO", true},
		{Cameras, "LOGITECH c920", true},
		{Cameras, "Integrated Camera", true},
		{Cameras, "Integrated Webcam", false},
		{Cameras, "OBS Virtual Camera", false},
		{Microphones, "anything", true},
		{Speakers, "Headphones", false},
		{DeviceKind("printers"), "x", false},
	}
	for _, tt := range tests {
		if got := p.AllowsDevice(tt.kind, tt.label); got != tt.want {
			t.Errorf("AllowsDevice(%q, %q) = %v; want %v", tt.kind, tt.label, got, tt.want)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbb", false},
		{"*jabra*", "my jabra evolve", true},
		{"?", "é", true},
		{"a?c", "ac", false},
		{"**x", "yyx", true},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v; want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestViewAndSummary(t *testing.T) {
	p, err := Parse("/etc/parley/policy.json", []byte(`{"hub_url": "https://a.example", "allowed_devices": {"speakers": []}, "locked": ["hub_url", "camera"]}`))
	if err != nil {
		t.Fatal(err)
	}
	v := p.View()
	if !v.Managed || v.Path != "/etc/parley/policy.json" || v.HubURL != "https://a.example" || !reflect.DeepEqual(v.Locked, []string{"hub_url", "camera"}) {
		t.Errorf("View() = %+v", v)
	}
	if (Policy{}).View().Locked == nil {
		t.Error("View().Locked must be an empty list, not null, for the UI")
	}
	var b strings.Builder
	if err := p.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/etc/parley/policy.json: valid", "hub_url          https://a.example", "speakers         none allowed", "locked           hub_url, camera"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("WriteSummary() = %q; want it to contain %q", b.String(), want)
		}
	}
}
