// Package policy reads the per-machine policy file with which IT pins the agent app to their hub,
// fixes the region, provider and allowed devices, and locks settings against change.
//
// The file is JSON at DefaultPath (/etc/parley/policy.json, %ProgramData%\Parley\policy.json,
// /Library/Application Support/Parley/policy.json). A file that is malformed, has unknown keys or
// invalid values is refused with a *FileError naming the file, line and column: a managed machine
// never silently falls back to defaults. A missing file means the machine is not managed.
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Setting names a setting of the agent app that a policy can lock.
type Setting string

// The settings a policy can lock. A locked setting cannot be changed by the agent: the app uses
// the policy's value, or its own default where the policy gives none.
const (
	SettingHubURL     Setting = "hub_url"
	SettingOrg        Setting = "org"
	SettingRegion     Setting = "region"
	SettingProvider   Setting = "provider"
	SettingCamera     Setting = "camera"
	SettingMicrophone Setting = "microphone"
	SettingSpeaker    Setting = "speaker"
	SettingLanguage   Setting = "language"
)

// Settings lists every setting a policy may lock, in the order the docs give them.
var Settings = []Setting{
	SettingHubURL, SettingOrg, SettingRegion, SettingProvider,
	SettingCamera, SettingMicrophone, SettingSpeaker, SettingLanguage,
}

// DeviceKind names a kind of media device in AllowedDevices.
type DeviceKind string

// The device kinds of AllowedDevices.
const (
	Cameras     DeviceKind = "cameras"
	Microphones DeviceKind = "microphones"
	Speakers    DeviceKind = "speakers"
)

// maxFileBytes bounds what Load reads: a policy is a few hundred bytes.
const maxFileBytes = 1 << 20

// Devices restricts which devices the agent may pick, per kind, by label pattern: '*' matches any
// run of characters, '?' one character, case-insensitively. A nil list allows every device of its
// kind; an empty, non-nil list ("cameras": []) allows none, e.g. to turn video off.
type Devices struct {
	// Cameras are the patterns of allowed camera labels.
	Cameras []string
	// Microphones are the patterns of allowed microphone labels.
	Microphones []string
	// Speakers are the patterns of allowed audio output labels.
	Speakers []string
}

// Policy is one machine's policy. The zero Policy is an unmanaged machine: nothing fixed, nothing
// locked, every device allowed.
type Policy struct {
	// Path is the file the policy came from; empty when the machine has none.
	Path string
	// HubURL is the hub the app connects to (http or https, no credentials), or empty.
	HubURL string
	// Org is the organisation the app signs in to (the hub's organisation id), or empty.
	Org string
	// Region is the organisation's region (e.g. "gcc"), or empty.
	Region string
	// Provider is the co-browse / screen-share provider's identifier, or empty.
	Provider string
	// AllowedDevices restricts device choice; see Devices.
	AllowedDevices Devices
	// Locked lists the settings the agent cannot change.
	Locked []Setting
}

// Managed reports whether the policy came from a file.
func (p Policy) Managed() bool { return p.Path != "" }

// IsLocked reports whether the agent is kept from changing setting s.
func (p Policy) IsLocked(s Setting) bool { return slices.Contains(p.Locked, s) }

// AllowsDevice reports whether a device of the given kind and label may be used.
func (p Policy) AllowsDevice(kind DeviceKind, label string) bool {
	var patterns []string
	switch kind {
	case Cameras:
		patterns = p.AllowedDevices.Cameras
	case Microphones:
		patterns = p.AllowedDevices.Microphones
	case Speakers:
		patterns = p.AllowedDevices.Speakers
	default:
		return false
	}
	if patterns == nil {
		return true
	}
	for _, pat := range patterns {
		if globMatch(strings.ToLower(pat), strings.ToLower(label)) {
			return true
		}
	}
	return false
}

// Load reads and validates the policy file at path. A missing file gives an error matching both
// ErrNoPolicy and fs.ErrNotExist; any other problem a *FileError naming the file and, where it
// applies, the line and column.
func Load(path string) (Policy, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Policy{}, &FileError{Path: path, Err: fmt.Errorf("%w: %w", ErrNoPolicy, fs.ErrNotExist)}
	}
	if err != nil {
		return Policy{}, &FileError{Path: path, Err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return Policy{}, &FileError{Path: path, Err: err}
	}
	if len(data) > maxFileBytes {
		return Policy{}, &FileError{Path: path, Err: fmt.Errorf("%w: larger than %d bytes", ErrInvalidValue, maxFileBytes)}
	}
	p, err := Parse(path, data)
	if err != nil {
		return Policy{}, err
	}
	return p, nil
}

// LoadMachine loads the policy at DefaultPath. A machine without a policy file gets the zero
// Policy and no error; a policy file that cannot be read or is invalid gets an error, which the
// app must show rather than run unmanaged.
func LoadMachine() (Policy, error) {
	path, err := DefaultPath()
	if err != nil {
		return Policy{}, err
	}
	p, err := Load(path)
	if errors.Is(err, ErrNoPolicy) {
		return Policy{}, nil
	}
	return p, err
}

// Parse validates data as the policy file named path (used in errors and as Policy.Path).
func Parse(path string, data []byte) (Policy, error) {
	text, err := toUTF8(data)
	if err != nil {
		return Policy{}, &FileError{Path: path, Err: err}
	}
	if len(bytes.TrimSpace(text)) == 0 {
		return Policy{}, &FileError{Path: path, Err: fmt.Errorf("%w: the file is empty; it must hold a JSON object", ErrSyntax)}
	}
	d := &decoder{path: path, data: text}
	p := Policy{Path: path}
	var lockedAt []int64
	err = d.object(text, 0, "", map[string]func(raw []byte, off int64) error{
		"hub_url": func(raw []byte, off int64) error {
			s, err := d.str(raw, off, "hub_url")
			if err != nil {
				return err
			}
			if err := checkHubURL(s); err != nil {
				return d.errAt(off, fmt.Errorf("%w: hub_url %v", ErrInvalidValue, err))
			}
			p.HubURL = s
			return nil
		},
		"org": func(raw []byte, off int64) error {
			s, err := d.str(raw, off, "org")
			if err == nil && !orgRE.MatchString(s) {
				err = d.errAt(off, fmt.Errorf("%w: org %q must be the organisation's id: lower-case letters, digits and '-', e.g. \"acme\"", ErrInvalidValue, s))
			}
			p.Org = s
			return err
		},
		"region": func(raw []byte, off int64) error {
			s, err := d.str(raw, off, "region")
			if err == nil && !tokenRE.MatchString(s) {
				err = d.errAt(off, fmt.Errorf("%w: region %q must be lower-case letters, digits and '-', e.g. \"gcc\"", ErrInvalidValue, s))
			}
			p.Region = s
			return err
		},
		"provider": func(raw []byte, off int64) error {
			s, err := d.str(raw, off, "provider")
			if err == nil && !tokenRE.MatchString(s) {
				err = d.errAt(off, fmt.Errorf("%w: provider %q must be lower-case letters, digits and '-'", ErrInvalidValue, s))
			}
			p.Provider = s
			return err
		},
		"allowed_devices": func(raw []byte, off int64) error {
			list := func(dst *[]string, key string) func([]byte, int64) error {
				return func(raw []byte, off int64) error {
					l, offs, err := d.strs(raw, off, "allowed_devices."+key)
					if err != nil {
						return err
					}
					for i, pat := range l {
						if err := checkPattern(pat); err != nil {
							return d.errAt(offs[i], fmt.Errorf("%w: allowed_devices.%s: %v", ErrInvalidValue, key, err))
						}
					}
					*dst = l
					return nil
				}
			}
			return d.object(raw, off, "allowed_devices", map[string]func([]byte, int64) error{
				string(Cameras):     list(&p.AllowedDevices.Cameras, string(Cameras)),
				string(Microphones): list(&p.AllowedDevices.Microphones, string(Microphones)),
				string(Speakers):    list(&p.AllowedDevices.Speakers, string(Speakers)),
			})
		},
		"locked": func(raw []byte, off int64) error {
			l, offs, err := d.strs(raw, off, "locked")
			if err != nil {
				return err
			}
			for i, s := range l {
				if !slices.Contains(Settings, Setting(s)) {
					return d.errAt(offs[i], fmt.Errorf("%w: locked: %q is not a setting; known settings: %s", ErrInvalidValue, s, settingList()))
				}
				p.Locked = append(p.Locked, Setting(s))
			}
			lockedAt = offs
			return nil
		},
	})
	if err != nil {
		return Policy{}, err
	}
	// A locked setting without a value would leave the agent nothing to connect to.
	for i, s := range p.Locked {
		if missing := lockedWithoutValue(p, s); missing {
			return Policy{}, d.errAt(lockedAt[i], fmt.Errorf("%w: locked: %q is locked but the policy sets no %s", ErrInvalidValue, s, s))
		}
	}
	return p, nil
}

// Validate checks a policy built in code (e.g. from installer parameters) by the same rules as
// Load, with errors that name the key instead of a position.
func (p Policy) Validate() error {
	data, err := p.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = Parse("(policy)", data)
	var fe *FileError
	if errors.As(err, &fe) {
		return fe.Err
	}
	return err
}

// MarshalJSON writes the policy in the file format, keeping the difference between a nil device
// list (any device) and an empty one (none).
func (p Policy) MarshalJSON() ([]byte, error) {
	type devices struct {
		Cameras     *[]string `json:"cameras,omitempty"`
		Microphones *[]string `json:"microphones,omitempty"`
		Speakers    *[]string `json:"speakers,omitempty"`
	}
	ptr := func(l []string) *[]string {
		if l == nil {
			return nil
		}
		return &l
	}
	out := struct {
		HubURL         string    `json:"hub_url,omitempty"`
		Org            string    `json:"org,omitempty"`
		Region         string    `json:"region,omitempty"`
		Provider       string    `json:"provider,omitempty"`
		AllowedDevices *devices  `json:"allowed_devices,omitempty"`
		Locked         []Setting `json:"locked,omitempty"`
	}{HubURL: p.HubURL, Org: p.Org, Region: p.Region, Provider: p.Provider, Locked: p.Locked}
	ad := p.AllowedDevices
	if ad.Cameras != nil || ad.Microphones != nil || ad.Speakers != nil {
		out.AllowedDevices = &devices{ptr(ad.Cameras), ptr(ad.Microphones), ptr(ad.Speakers)}
	}
	return json.MarshalIndent(out, "", "  ")
}

func lockedWithoutValue(p Policy, s Setting) bool {
	switch s {
	case SettingHubURL:
		return p.HubURL == ""
	case SettingOrg:
		return p.Org == ""
	case SettingRegion:
		return p.Region == ""
	case SettingProvider:
		return p.Provider == ""
	}
	return false
}

func settingList() string {
	names := make([]string, len(Settings))
	for i, s := range Settings {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// orgRE is what an organisation id looks like (the hub's rule).
var orgRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$`)

// tokenRE is what region and provider identifiers look like.
var tokenRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func checkHubURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL", s)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("%q must start with https:// (or http://)", s)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("%q has no host", s)
	case u.User != nil:
		return fmt.Errorf("must not carry a user name or password")
	case u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(s, "?#"):
		return fmt.Errorf("%q must not have a query or fragment", s)
	}
	return nil
}

func checkPattern(p string) error {
	switch {
	case strings.TrimSpace(p) == "":
		return errors.New("empty device pattern")
	case utf8.RuneCountInString(p) > 200:
		return errors.New("device pattern longer than 200 characters")
	}
	return nil
}

// globMatch matches s against pattern, where '*' is any run of characters and '?' one character.
func globMatch(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// toUTF8 accepts UTF-8 (with or without the byte-order mark Notepad writes) and UTF-16 with a
// byte-order mark (what Windows PowerShell 5's Out-File writes), and returns UTF-8.
func toUTF8(data []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		if len(data)%2 != 0 {
			return nil, fmt.Errorf("%w: UTF-16 with an odd number of bytes", ErrEncoding)
		}
		le := data[0] == 0xFF
		u := make([]uint16, 0, len(data)/2-1)
		for i := 2; i < len(data); i += 2 {
			if le {
				u = append(u, uint16(data[i])|uint16(data[i+1])<<8)
			} else {
				u = append(u, uint16(data[i])<<8|uint16(data[i+1]))
			}
		}
		return []byte(string(utf16.Decode(u))), nil
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: save the file as UTF-8", ErrEncoding)
	}
	return data, nil
}
