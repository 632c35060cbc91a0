package app_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/app/policy"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/wire"
)

// writePolicy writes a policy file and loads it as the app does at start-up.
func writePolicy(t *testing.T, text string) (policy.Policy, string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(path)
	return p, path, err
}

func TestPolicyLockedHub(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	tests := []struct {
		name     string
		policy   string
		signInTo string
		want     wire.Code // "" = signed in
		prefill  string
	}{
		{"locked to another hub refuses this one", `{"hub_url": "https://parley.example.com", "locked": ["hub_url"]}`,
			hubURL, wire.EFORBIDDEN, "https://parley.example.com"},
		{"locked to this hub, written with a trailing slash", `{"hub_url": "` + hubURL + `/", "locked": ["hub_url"]}`,
			hubURL, "", hubURL + "/"},
		{"an unlocked hub is only the default", `{"hub_url": "https://parley.example.com"}`,
			hubURL, "", "https://parley.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, err := writePolicy(t, tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			svc := app.New(app.Config{Policy: p})
			defer svc.Close()
			if pre, _ := svc.Session.Prefill(); pre.HubURL != tt.prefill {
				t.Errorf("Prefill().HubURL = %q; want the policy's %q", pre.HubURL, tt.prefill)
			}
			_, err = svc.Session.SignIn(tt.signInTo, "demo", "agent1", "demo")
			if got := wire.ErrorCode(err); got != tt.want {
				t.Fatalf("SignIn(%s) code = %q (%v); want %q", tt.signInTo, got, err, tt.want)
			}
			if tt.want != "" {
				if !errors.Is(err, app.ErrHubLocked) {
					t.Errorf("SignIn error = %v; want ErrHubLocked", err)
				}
				if v, _ := svc.Session.Current(); v.SignedIn {
					t.Error("signed in to a hub the policy does not allow")
				}
			}
			v, _ := svc.Settings.Policy()
			if !v.Managed || v.Error != nil {
				t.Errorf("Settings.Policy() = %+v; want managed, no error", v)
			}
		})
	}
}

func TestMalformedPolicyShownAndSignInRefused(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	p, path, err := writePolicy(t, "{\n  \"hub_url\": \"https://parley.example.com\",\n  \"hubURL\": \"x\"\n}\n")
	if err == nil {
		t.Fatal("Load accepted an unknown key")
	}
	svc := app.New(app.Config{Policy: p, PolicyErr: err, PolicyPath: path})
	defer svc.Close()

	v, _ := svc.Settings.Policy()
	if v.Error == nil {
		t.Fatalf("Settings.Policy() = %+v; want the error for the window", v)
	}
	if e := v.Error; e.Path != path || e.Line != 3 || e.Column != 3 || e.Kind != "unknown_key" {
		t.Errorf("policy error = %+v; want %s line 3 column 3, unknown_key", e, path)
	}
	if !v.Managed {
		t.Error("a refused policy file shows as unmanaged")
	}
	_, err = svc.Session.SignIn(hubURL, "demo", "agent1", "demo")
	if got := wire.ErrorCode(err); got != app.CodePolicyInvalid {
		t.Fatalf("SignIn with a malformed policy: code %q (%v); want %q", got, err, app.CodePolicyInvalid)
	}
	if a, _ := svc.Settings.About(); a.PolicyPath != path || !a.Managed || a.Version == "" || a.License == "" {
		t.Errorf("About() = %+v", a)
	}
}

func TestAboutUnmanaged(t *testing.T) {
	svc := app.New(app.Config{Prefill: app.Prefill{HubURL: "http://127.0.0.1:8080"}, PolicyPath: "/etc/parley/policy.json"})
	defer svc.Close()
	a, _ := svc.Settings.About()
	if a.Managed || a.HubURL != "http://127.0.0.1:8080" || a.PolicyPath != "/etc/parley/policy.json" || a.Name != "Parley" {
		t.Errorf("About() = %+v", a)
	}
	if v, _ := svc.Settings.Policy(); v.Managed || v.Error != nil || v.Locked == nil {
		t.Errorf("Policy() = %+v; want unmanaged with an empty locked list", v)
	}
}

func TestLockedDeviceChoiceRefused(t *testing.T) {
	p, _, err := writePolicy(t, `{"allowed_devices": {"cameras": ["Logitech*"]}, "locked": ["camera"]}`)
	if err != nil {
		t.Fatal(err)
	}
	svc := app.New(app.Config{Policy: p, Devices: app.DevicesTestPattern})
	defer svc.Close()
	if err := svc.Calls.SelectDevice("camera", "x"); !errors.Is(err, app.ErrSettingLocked) {
		t.Errorf("SelectDevice(camera) with camera locked = %v; want ErrSettingLocked", err)
	}
	if err := svc.Calls.SelectDevice("microphone", "x"); err != nil {
		t.Errorf("SelectDevice(microphone), not locked = %v", err)
	}
}

func TestHubAllowed(t *testing.T) {
	locked := policy.Policy{Path: "p", HubURL: "https://parley.example.com/", Locked: []policy.Setting{policy.SettingHubURL}}
	tests := []struct {
		p    policy.Policy
		hub  string
		want error
	}{
		{locked, "https://parley.example.com", nil},
		{locked, "parley.example.com", app.ErrHubLocked}, // http://, not https://
		{locked, "http://127.0.0.1:8080", app.ErrHubLocked},
		{policy.Policy{HubURL: "https://parley.example.com"}, "http://127.0.0.1:8080", nil},
		{policy.Policy{}, "http://127.0.0.1:8080", nil},
	}
	for _, tt := range tests {
		t.Run(tt.hub, func(t *testing.T) {
			if err := app.HubAllowed(tt.p, tt.hub); !errors.Is(err, tt.want) {
				t.Errorf("HubAllowed(%v, %s) = %v; want %v", tt.p.Locked, tt.hub, err, tt.want)
			}
		})
	}
}

// TestLanguageSetting: the agent picks Spanish and the next start of the app keeps it; a
// language the UI lacks is refused; a policy that locks the language keeps the system's and
// refuses a change.
func TestLanguageSetting(t *testing.T) {
	dir := t.TempDir()
	s := app.New(app.Config{StateDir: dir})
	if v, err := s.Settings.Language(); err != nil || v != (app.LanguageView{}) {
		t.Fatalf("first start: %+v, %v; want the system's, unlocked", v, err)
	}
	if err := s.Settings.SetLanguage("es"); err != nil {
		t.Fatal(err)
	}
	if err := s.Settings.SetLanguage("fr"); wire.ErrorCode(err) != wire.EINVALID {
		t.Errorf("SetLanguage(fr) = %v; want EINVALID", err)
	}
	again := app.New(app.Config{StateDir: dir})
	if v, _ := again.Settings.Language(); v.Language != "es" || v.Locked {
		t.Errorf("after a restart: %+v; want es", v)
	}

	p, _, err := writePolicy(t, `{"locked": ["language"]}`)
	if err != nil {
		t.Fatal(err)
	}
	locked := app.New(app.Config{StateDir: dir, Policy: p})
	if v, _ := locked.Settings.Language(); v.Language != "" || !v.Locked {
		t.Errorf("locked by policy: %+v; want the system's, locked", v)
	}
	if err := locked.Settings.SetLanguage("en"); wire.ErrorCode(err) != wire.EFORBIDDEN {
		t.Errorf("SetLanguage under a lock = %v; want EFORBIDDEN", err)
	}
}
