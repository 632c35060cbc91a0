package app

import (
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

// fakeDev makes a device folder with the given files; a file with mode 0 stands for a device
// this user may not open (root opens anything, so the probe's open is told so explicitly).
func fakeDev(t *testing.T, files map[string]os.FileMode) string {
	t.Helper()
	dir := t.TempDir()
	for name, mode := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// openByMode refuses files without any permission bit, as the kernel does for a non-root user
// outside the file's group.
func openByMode(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Mode().Perm() == 0 {
		return &fs.PathError{Op: "open", Path: path, Err: fs.ErrPermission}
	}
	return nil
}

func TestLinuxDevicePermissions(t *testing.T) {
	type want struct {
		device media.DeviceKind
		code   wire.Code
		reason PermissionReason
		path   string // relative to the fake /dev
	}
	tests := []struct {
		name    string
		files   map[string]os.FileMode
		sockets []string // under the fake XDG_RUNTIME_DIR
		want    []want
	}{
		{
			name:  "nothing at all",
			files: map[string]os.FileMode{"null": 0o666},
			want: []want{
				{media.KindCamera, CodeNoCamera, ReasonLinuxNoDevice, "video*"},
				{media.KindMicrophone, CodeNoMicrophone, ReasonLinuxNoDevice, "snd"},
			},
		},
		{
			name:  "devices this user may open",
			files: map[string]os.FileMode{"video0": 0o660, "snd/pcmC0D0c": 0o660, "snd/pcmC0D0p": 0o660},
		},
		{
			name:  "camera not readable: names the file and its group",
			files: map[string]os.FileMode{"video0": 0, "video1": 0, "snd/pcmC0D0c": 0o660},
			want:  []want{{media.KindCamera, CodeCameraDenied, ReasonLinuxGroup, "video0"}},
		},
		{
			name:  "one camera of two readable is enough",
			files: map[string]os.FileMode{"video0": 0, "video1": 0o660, "snd/pcmC0D0c": 0o660},
		},
		{
			name:  "microphone device not readable, no sound server",
			files: map[string]os.FileMode{"video0": 0o660, "snd/pcmC0D0c": 0, "snd/pcmC0D0p": 0o660},
			want:  []want{{media.KindMicrophone, CodeMicrophoneDenied, ReasonLinuxGroup, "snd/pcmC0D0c"}},
		},
		{
			name:    "a PulseAudio socket owns the sound devices",
			files:   map[string]os.FileMode{"video0": 0o660, "snd/pcmC0D0c": 0},
			sockets: []string{"pulse/native"},
		},
		{
			name:    "a PipeWire socket owns the sound devices",
			files:   map[string]os.FileMode{"video0": 0o660},
			sockets: []string{"pipewire-0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dev := fakeDev(t, tt.files)
			run := t.TempDir()
			for _, s := range tt.sockets {
				p := filepath.Join(run, s)
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got := linuxProbe{dev: dev, runtimeDir: run, open: openByMode}.check()
			if len(got) != len(tt.want) {
				t.Fatalf("check() = %+v; want %d problems", got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Device != w.device || g.Code != w.code || g.Reason != w.reason || g.Path != filepath.Join(dev, w.path) {
					t.Errorf("problem %d = %+v; want %+v", i, g, w)
				}
				if w.reason == ReasonLinuxGroup && g.Group != fileGroup(t, g.Path) {
					t.Errorf("problem %d names group %q; the file's group is %q", i, g.Group, fileGroup(t, g.Path))
				}
			}
		})
	}
}

// TestLinuxPulseServerEnv: PULSE_SERVER points at a server elsewhere; the local devices do not matter.
func TestLinuxPulseServerEnv(t *testing.T) {
	dev := fakeDev(t, map[string]os.FileMode{"video0": 0o660})
	got := linuxProbe{dev: dev, pulseServer: "tcp:10.0.0.5", open: openByMode}.check()
	if len(got) != 0 {
		t.Errorf("check() = %+v; want none", got)
	}
}

// TestLinuxRealOpen runs the real open on a device file without permission bits, which refuses
// anyone but root.
func TestLinuxRealOpen(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root opens any file; the fake-open cases above cover the logic")
	}
	dev := fakeDev(t, map[string]os.FileMode{"video0": 0})
	got := linuxProbe{dev: dev, pulseServer: "x", open: openDevice}.check()
	if len(got) != 1 || got[0].Code != CodeCameraDenied || got[0].Group == "" {
		t.Errorf("check() = %+v; want the camera denied with its group", got)
	}
}

func fileGroup(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	gid := strconv.FormatUint(uint64(fi.Sys().(*syscall.Stat_t).Gid), 10)
	if g, err := user.LookupGroupId(gid); err == nil {
		return g.Name
	}
	return gid
}
