package app

import (
	"errors"

	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

// The calls' devices: probing a microphone or camera, and the coded errors the UI translates.

// probeMicrophone opens and closes the microphone, returning a coded error when it cannot.
func probeMicrophone(id string) error {
	src, err := media.OpenAudio(id)
	if err != nil {
		return micWireError(err)
	}
	_ = src.Close()
	return nil
}

// micWireError turns a media error from opening a microphone into the UI's coded error.
func micWireError(err error) error {
	code := CodeNoMicrophone
	switch {
	case errors.Is(err, media.ErrPermissionDenied):
		code = CodeMicrophoneDenied
	case errors.Is(err, media.ErrDeviceBusy):
		code = CodeMicrophoneBusy
	case errors.Is(err, media.ErrClosed):
		return ErrNoCall
	default:
		code = osDeviceCode(media.KindMicrophone, code)
	}
	return &wire.Error{Code: code, Message: "microphone unavailable"}
}

// probeCamera opens and closes the camera, returning the problem's code, "" when it works.
func probeCamera(id string) wire.Code {
	src, err := media.OpenVideo(id, 640, 480, 30)
	if err != nil {
		return cameraCode(err)
	}
	_ = src.Close()
	return ""
}

func isCameraError(err error) bool {
	return errors.Is(err, media.ErrNoCamera) || errors.Is(err, media.ErrPermissionDenied) || errors.Is(err, media.ErrDeviceBusy)
}

// cameraCode turns a media error from opening a camera into the UI's code.
func cameraCode(err error) wire.Code {
	switch {
	case errors.Is(err, media.ErrPermissionDenied):
		return CodeCameraDenied
	case errors.Is(err, media.ErrDeviceBusy):
		return CodeCameraBusy
	}
	return osDeviceCode(media.KindCamera, CodeNoCamera)
}

// osDeviceCode explains a device that could not be opened for no reason the media engine could
// tell: the OS may be keeping it from Parley without saying so. Windows' privacy switches make
// DirectShow and WASAPI find or open nothing, as if there were no device; on Linux the device
// file may belong to a group the agent is not in. It returns the code of the problem
// CheckDevicePermissions finds for kind, or def when it finds none.
func osDeviceCode(kind media.DeviceKind, def wire.Code) wire.Code {
	if p := PermissionFor(kind); p != nil {
		return p.Code
	}
	return def
}

// deviceWireError turns a media error from turning video on into the UI's coded error.
func deviceWireError(err error) error {
	if isCameraError(err) {
		return &wire.Error{Code: cameraCode(err), Message: "camera unavailable"}
	}
	return asWireError(err)
}

func appendCode(cs []wire.Code, c wire.Code) []wire.Code {
	for _, x := range cs {
		if x == c {
			return cs
		}
	}
	return append(cs, c)
}

func removeCode(cs []wire.Code, c wire.Code) []wire.Code {
	out := cs[:0]
	for _, x := range cs {
		if x != c {
			out = append(out, x)
		}
	}
	return out
}
