package app

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"

	"github.com/parleyhq/parley/app/policy"
	"github.com/parleyhq/parley/internal/version"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

// CodePolicyInvalid is the code of a sign-in refused because this machine's policy file is
// malformed: the app never runs unmanaged on a machine IT meant to manage.
const CodePolicyInvalid wire.Code = "EPOLICY"

// Errors of the policy wiring.
var (
	// ErrHubLocked indicates a sign-in to another hub than the one the policy locks.
	ErrHubLocked = &wire.Error{Code: wire.EFORBIDDEN, Message: "the hub URL is locked by this machine's policy"}
	// ErrSettingLocked indicates a change to a setting the policy locks (camera, microphone,
	// speaker).
	ErrSettingLocked = &wire.Error{Code: wire.EFORBIDDEN, Message: "this setting is locked by this machine's policy"}
	// ErrPolicyInvalid indicates a sign-in while the policy file is malformed.
	ErrPolicyInvalid = &wire.Error{Code: CodePolicyInvalid, Message: "this machine's policy file is malformed"}
)

// License is the About box's licence line: the open-source components the app carries and their
// licences (Parley itself is "Proprietary" in build/linux/copyright). The UI puts it in a
// translated sentence.
const License = "pion (MIT), Wails (MIT), Svelte (MIT), OpenH264 (BSD-2-Clause, Cisco), Opus (BSD-3-Clause, Xiph.Org)"

// Settings gives the UI the machine's policy (what is fixed, what is locked), the About box and
// the device permission checks.
type Settings struct {
	c *core
}

// PolicyErrorKind is what is wrong with a refused policy file.
type PolicyErrorKind string

// Policy error kinds.
const (
	PolicySyntax       PolicyErrorKind = "syntax"
	PolicyUnknownKey   PolicyErrorKind = "unknown_key"
	PolicyDuplicateKey PolicyErrorKind = "duplicate_key"
	PolicyInvalidValue PolicyErrorKind = "invalid_value"
	PolicyEncoding     PolicyErrorKind = "encoding"
	PolicyUnreadable   PolicyErrorKind = "unreadable"
)

// PolicyErrorView is a policy file the app refused, for the UI's error banner.
type PolicyErrorView struct {
	// Path is the policy file.
	Path string `json:"path"`
	// Line and Column locate the problem (1-based); Line is 0 when it is the whole file.
	Line   int `json:"line"`
	Column int `json:"column"`
	// Kind is what is wrong, for the UI to translate.
	Kind PolicyErrorKind `json:"kind"`
	// Detail is the policy package's sentence for IT (English, as parley-policy check prints it).
	Detail string `json:"detail"`
}

// PolicyView is the policy as the UI shows it, with the error when the file was refused.
type PolicyView struct {
	policy.View
	// Error is set when the policy file is malformed; sign-in is refused until it is fixed.
	Error *PolicyErrorView `json:"error,omitempty"`
}

// AboutView is what the About box shows.
type AboutView struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// HubURL is the hub signed in to, else the one the sign-in form starts with.
	HubURL     string `json:"hub_url"`
	PolicyPath string `json:"policy_path"`
	Managed    bool   `json:"managed"`
	License    string `json:"license"`
}

// Policy returns this machine's policy as the UI shows it.
func (s *Settings) Policy() (PolicyView, error) {
	return policyView(s.c.policy, s.c.policyErr), nil
}

// About returns the About box's contents.
func (s *Settings) About() (AboutView, error) {
	c := s.c
	c.mu.Lock()
	hub := c.session.HubURL
	if hub == "" {
		hub = c.prefill.HubURL
	}
	c.mu.Unlock()
	v := AboutView{Name: "Parley", Version: version.Version, HubURL: hub, Managed: c.policy.Managed() || c.policyErr != nil, License: License}
	v.PolicyPath = c.policyPath
	return v, nil
}

// DevicePermissions reports what keeps the camera or microphone from working on this machine
// (privacy settings on Windows, missing devices or group membership on Linux); empty when
// nothing is known to be wrong.
func (s *Settings) DevicePermissions() ([]PermissionProblem, error) {
	return CheckDevicePermissions(), nil
}

func policyView(p policy.Policy, err error) PolicyView {
	v := PolicyView{View: p.View()}
	if err == nil {
		return v
	}
	ev := &PolicyErrorView{Kind: PolicyUnreadable, Detail: err.Error()}
	var fe *policy.FileError
	if errors.As(err, &fe) {
		ev.Path, ev.Line, ev.Column = fe.Path, fe.Line, fe.Column
	}
	switch {
	case errors.Is(err, policy.ErrSyntax):
		ev.Kind = PolicySyntax
	case errors.Is(err, policy.ErrUnknownKey):
		ev.Kind = PolicyUnknownKey
	case errors.Is(err, policy.ErrDuplicateKey):
		ev.Kind = PolicyDuplicateKey
	case errors.Is(err, policy.ErrInvalidValue):
		ev.Kind = PolicyInvalidValue
	case errors.Is(err, policy.ErrEncoding):
		ev.Kind = PolicyEncoding
	}
	v.Managed, v.Path = true, ev.Path
	v.Error = ev
	return v
}

// checkHubPolicy refuses a hub other than the one the policy locks, and any hub while the policy
// file is malformed. hubURL is normalised.
func (c *core) checkHubPolicy(hubURL string) error {
	if c.policyErr != nil {
		return ErrPolicyInvalid
	}
	return HubAllowed(c.policy, hubURL)
}

// HubAllowed reports whether policy p lets the app use hubURL: nil, ErrHubLocked when p locks
// another hub, or the EINVALID error of a hub URL that is not one. main.go asks it about -hub
// and -demo before it starts anything.
func HubAllowed(p policy.Policy, hubURL string) error {
	u, err := normalizeHubURL(hubURL)
	if err != nil {
		return err
	}
	if !p.IsLocked(policy.SettingHubURL) {
		return nil
	}
	if want, err := normalizeHubURL(p.HubURL); err != nil || want != u {
		return ErrHubLocked
	}
	return nil
}

// deviceAllowed reports whether the policy lets the agent use a device of the media engine's
// kind (camera, microphone, speaker) and label. The test sources are always allowed.
func (c *core) deviceAllowed(kind media.DeviceKind, id, label string) bool {
	if id == media.TestPatternID || id == media.TestPattern2ID || id == "none" {
		return true
	}
	switch kind {
	case media.KindCamera:
		return c.policy.AllowsDevice(policy.Cameras, label)
	case media.KindMicrophone:
		return c.policy.AllowsDevice(policy.Microphones, label)
	case media.KindSpeaker:
		return c.policy.AllowsDevice(policy.Speakers, label)
	}
	return false
}

// filterDevices drops the devices the policy does not allow (allowed_devices), keeping order.
// The calls service runs its device list through it.
func (c *core) filterDevices(ds []DeviceView) []DeviceView {
	out := ds[:0:0]
	for _, d := range ds {
		if c.deviceAllowed(d.Kind, d.ID, d.Label) {
			out = append(out, d)
		}
	}
	return out
}

// policyPrefill starts the sign-in form at the policy's hub: always when the policy locks it,
// else when no flag named one.
func policyPrefill(p policy.Policy, pre Prefill) Prefill {
	if p.HubURL != "" && (p.IsLocked(policy.SettingHubURL) || pre.HubURL == "") {
		pre.HubURL = p.HubURL
	}
	if p.Org != "" && (p.IsLocked(policy.SettingOrg) || pre.Org == "") {
		pre.Org = p.Org
	}
	return pre
}

// startPrefill is what the sign-in form starts with before the policy: the flags' values, else
// the last sign-in's. A hub given by flag that differs from the last one drops the last
// organisation and username with it.
func startPrefill(flags, last Prefill) Prefill {
	if flags.HubURL != "" && flags.HubURL != last.HubURL {
		last = Prefill{}
	}
	if flags.HubURL != "" {
		last.HubURL = flags.HubURL
	}
	if flags.Org != "" {
		last.Org = flags.Org
	}
	if flags.Username != "" {
		last.Username = flags.Username
	}
	return last
}

// deviceLocked refuses a device choice of a kind (camera, microphone, speaker) the policy locks.
func (c *core) deviceLocked(kind media.DeviceKind) error {
	if c.policy.IsLocked(policy.Setting(kind)) {
		return ErrSettingLocked
	}
	return nil
}

// Languages are the agent UI's languages; "" follows the system's.
var Languages = []string{"en", "es"}

// ErrLanguage indicates a language the agent UI does not have.
var ErrLanguage = &wire.Error{Code: wire.EINVALID, Message: "the language must be en, es or empty (the system's)"}

// LanguageView is the agent's language setting.
type LanguageView struct {
	// Language is "en" or "es"; "" follows the system's (LANG, the desktop's language).
	Language string `json:"language"`
	// Locked is true when this machine's policy locks the language: the system's is used.
	Locked bool `json:"locked"`
}

// prefsFile is where the app keeps the agent's own settings on this machine (no secrets).
const prefsFile = "settings.json"

type prefs struct {
	Language string `json:"language,omitempty"`
	// SetupOffered is set once "Test my setup" was offered after a sign-in on this machine.
	SetupOffered bool `json:"setup_offered,omitempty"`
}

// updatePrefs changes the agent's settings on this machine (in memory without a state folder).
func (c *core) updatePrefs(change func(*prefs)) error {
	c.prefsMu.Lock()
	defer c.prefsMu.Unlock()
	p := c.loadPrefs()
	change(&p)
	if c.stateDir == "" {
		c.memPrefs = &p
		return nil
	}
	b, err := json.Marshal(p)
	if err == nil {
		if err = os.MkdirAll(c.stateDir, 0o700); err == nil {
			err = os.WriteFile(filepath.Join(c.stateDir, prefsFile), b, 0o600)
		}
	}
	if err != nil {
		c.log.Warn("could not save the settings", "err", err)
		return wire.Errorf(wire.EINTERNAL, "could not save the settings")
	}
	return nil
}

// Language returns the agent's language setting. A policy that locks the language makes it the
// system's, whatever the agent chose before.
func (s *Settings) Language() (LanguageView, error) {
	if s.c.policy.IsLocked(policy.SettingLanguage) {
		return LanguageView{Locked: true}, nil
	}
	p := s.c.loadPrefs()
	if !slices.Contains(Languages, p.Language) {
		p.Language = ""
	}
	return LanguageView{Language: p.Language}, nil
}

// SetLanguage sets the agent UI's language ("en", "es", or "" for the system's) on this machine;
// the UI reloads in it. Refused when the policy locks the language.
func (s *Settings) SetLanguage(lang string) error {
	if s.c.policy.IsLocked(policy.SettingLanguage) {
		return ErrSettingLocked
	}
	if lang != "" && !slices.Contains(Languages, lang) {
		return ErrLanguage
	}
	return s.c.updatePrefs(func(p *prefs) { p.Language = lang })
}

// loadPrefs reads the agent's settings; the zero prefs when there are none.
func (c *core) loadPrefs() prefs {
	var p prefs
	if c.stateDir == "" {
		if c.memPrefs != nil {
			p = *c.memPrefs
		}
		return p
	}
	b, err := os.ReadFile(filepath.Join(c.stateDir, prefsFile))
	if err != nil || json.Unmarshal(b, &p) != nil {
		return prefs{}
	}
	return p
}
