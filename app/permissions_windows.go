package app

import (
	"strings"

	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
	"golang.org/x/sys/windows/registry"
)

// consentStore is where Windows keeps the camera and microphone privacy switches: a key per
// capability whose string "Value" is Allow or Deny, under HKLM (the whole device), HKCU (this
// user) and HKCU's NonPackaged subkey ("Let desktop apps access ...", which covers Parley).
const consentStore = `Software\Microsoft\Windows\CurrentVersion\CapabilityAccessManager\ConsentStore\`

func checkDevicePermissions() []PermissionProblem {
	var out []PermissionProblem
	for _, d := range []struct {
		kind       media.DeviceKind
		capability string
		code       wire.Code
		uri        string
	}{
		{media.KindCamera, "webcam", CodeCameraDenied, "ms-settings:privacy-webcam"},
		{media.KindMicrophone, "microphone", CodeMicrophoneDenied, "ms-settings:privacy-microphone"},
	} {
		if reason := consentDenied(d.capability); reason != "" {
			out = append(out, PermissionProblem{Device: d.kind, Code: d.code, Reason: reason, SettingsURI: d.uri})
		}
	}
	return out
}

// consentDenied returns the reason a capability is denied, "" when it is not (or the keys are
// missing, as on Windows versions without these settings).
func consentDenied(capability string) PermissionReason {
	switch {
	case denied(registry.LOCAL_MACHINE, consentStore+capability):
		return ReasonWindowsPrivacyDevice
	case denied(registry.CURRENT_USER, consentStore+capability):
		return ReasonWindowsPrivacy
	case denied(registry.CURRENT_USER, consentStore+capability+`\NonPackaged`):
		return ReasonWindowsPrivacyDesktop
	}
	return ""
}

func denied(root registry.Key, path string) bool {
	k, err := registry.OpenKey(root, path, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	defer k.Close()
	v, _, err := k.GetStringValue("Value")
	return err == nil && strings.EqualFold(v, "Deny")
}
