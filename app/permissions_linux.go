package app

import (
	"errors"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"

	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

func checkDevicePermissions() []PermissionProblem {
	return linuxProbe{
		dev:         "/dev",
		runtimeDir:  os.Getenv("XDG_RUNTIME_DIR"),
		pulseServer: os.Getenv("PULSE_SERVER"),
		open:        openDevice,
	}.check()
}

// linuxProbe finds device problems under dev (a temporary folder in tests).
type linuxProbe struct {
	// dev is the device folder, /dev.
	dev string
	// runtimeDir is $XDG_RUNTIME_DIR, where PulseAudio and PipeWire put their sockets.
	runtimeDir string
	// pulseServer is $PULSE_SERVER: a sound server somewhere else.
	pulseServer string
	// open tries to open a device file for reading and writing.
	open func(path string) error
}

// openDevice opens path the way capture does (read-write, non-blocking) and closes it.
func openDevice(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	return f.Close()
}

func (p linuxProbe) check() []PermissionProblem {
	var out []PermissionProblem
	if prob := p.camera(); prob != nil {
		out = append(out, *prob)
	}
	if prob := p.microphone(); prob != nil {
		out = append(out, *prob)
	}
	return out
}

// camera: no /dev/video* at all, or none this user may open.
func (p linuxProbe) camera() *PermissionProblem {
	files, _ := filepath.Glob(filepath.Join(p.dev, "video*"))
	sort.Strings(files)
	if len(files) == 0 {
		return &PermissionProblem{Device: media.KindCamera, Code: CodeNoCamera, Reason: ReasonLinuxNoDevice,
			Path: filepath.Join(p.dev, "video*")}
	}
	return p.denied(files, media.KindCamera, CodeCameraDenied)
}

// microphone: with a sound server (PulseAudio, PipeWire) the server owns the devices; without
// one, capture opens /dev/snd/pcmC*D*c itself.
func (p linuxProbe) microphone() *PermissionProblem {
	if p.pulseServer != "" {
		return nil
	}
	if p.runtimeDir != "" {
		for _, s := range []string{"pulse/native", "pipewire-0"} {
			if _, err := os.Stat(filepath.Join(p.runtimeDir, s)); err == nil {
				return nil
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(p.dev, "snd", "pcmC*D*c"))
	sort.Strings(files)
	if len(files) == 0 {
		return &PermissionProblem{Device: media.KindMicrophone, Code: CodeNoMicrophone, Reason: ReasonLinuxNoDevice,
			Path: filepath.Join(p.dev, "snd")}
	}
	return p.denied(files, media.KindMicrophone, CodeMicrophoneDenied)
}

// denied returns a problem when every one of files refuses this user; a device that is merely
// busy or gone is not a permission problem.
func (p linuxProbe) denied(files []string, kind media.DeviceKind, code wire.Code) *PermissionProblem {
	var first string
	for _, f := range files {
		err := p.open(f)
		if err == nil || !errors.Is(err, fs.ErrPermission) {
			return nil
		}
		if first == "" {
			first = f
		}
	}
	return &PermissionProblem{Device: kind, Code: code, Reason: ReasonLinuxGroup, Path: first, Group: groupOf(first)}
}

// groupOf names the group that owns path, or its number when it has no name.
func groupOf(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	gid := strconv.FormatUint(uint64(st.Gid), 10)
	if g, err := user.LookupGroupId(gid); err == nil {
		return g.Name
	}
	return gid
}
