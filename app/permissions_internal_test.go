package app

import (
	"fmt"
	"testing"

	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

// TestDeviceCodesFollowOSPermissions: a device the media engine cannot find or open is explained
// by the OS's permission problem for it (Windows' privacy switches hide the camera as if there
// were none), and stays "no device" when the OS reports nothing.
func TestDeviceCodesFollowOSPermissions(t *testing.T) {
	denied := []PermissionProblem{
		{Device: media.KindCamera, Code: CodeCameraDenied, Reason: ReasonWindowsPrivacyDesktop, SettingsURI: "ms-settings:privacy-webcam"},
		{Device: media.KindMicrophone, Code: CodeMicrophoneDenied, Reason: ReasonWindowsPrivacy, SettingsURI: "ms-settings:privacy-microphone"},
	}
	tests := []struct {
		problems []PermissionProblem
		err      error
		camera   wire.Code
		mic      wire.Code
	}{
		{nil, media.ErrNoCamera, CodeNoCamera, CodeNoMicrophone},
		{denied, media.ErrNoCamera, CodeCameraDenied, CodeMicrophoneDenied},
		{denied, fmt.Errorf("open: %w", media.ErrDeviceBusy), CodeCameraBusy, CodeMicrophoneBusy},
		{nil, media.ErrPermissionDenied, CodeCameraDenied, CodeMicrophoneDenied},
	}
	defer func(f func() []PermissionProblem) { checkPermissions = f }(checkPermissions)
	for _, tt := range tests {
		checkPermissions = func() []PermissionProblem { return tt.problems }
		if got := cameraCode(tt.err); got != tt.camera {
			t.Errorf("cameraCode(%v) with %d OS problems = %s; want %s", tt.err, len(tt.problems), got, tt.camera)
		}
		if got := wire.ErrorCode(micWireError(tt.err)); got != tt.mic {
			t.Errorf("micWireError(%v) with %d OS problems = %s; want %s", tt.err, len(tt.problems), got, tt.mic)
		}
	}
}
