package app

import (
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

// PermissionReason is why a device cannot work (PermissionProblem), for the UI to pick its
// sentence.
type PermissionReason string

// Reasons of a PermissionProblem.
const (
	// ReasonWindowsPrivacy: Settings > Privacy & security > Camera (or Microphone) is off for
	// this user.
	ReasonWindowsPrivacy PermissionReason = "windows_privacy"
	// ReasonWindowsPrivacyDesktop: the same page's "Let desktop apps access ..." is off.
	ReasonWindowsPrivacyDesktop PermissionReason = "windows_privacy_desktop"
	// ReasonWindowsPrivacyDevice: access is off for the whole device (an administrator's switch,
	// or Group Policy).
	ReasonWindowsPrivacyDevice PermissionReason = "windows_privacy_device"
	// ReasonLinuxNoDevice: no /dev/video* (camera) or no sound device and no sound server
	// (microphone).
	ReasonLinuxNoDevice PermissionReason = "linux_no_device"
	// ReasonLinuxGroup: the device exists but this user may not open it; Group names the group
	// that may (video, audio).
	ReasonLinuxGroup PermissionReason = "linux_group"
)

// PermissionProblem is one reason the camera or microphone cannot work on this machine, as
// found before a call: the UI tells the agent what to change.
type PermissionProblem struct {
	// Device is camera or microphone.
	Device media.DeviceKind `json:"device"`
	// Code is the device code of the calls service (ECAMDENIED, ENOCAMERA, EMICDENIED,
	// ENOMICROPHONE).
	Code wire.Code `json:"code"`
	// Reason is one of the Reason constants.
	Reason PermissionReason `json:"reason"`
	// Path is the device file concerned (Linux), e.g. /dev/video0.
	Path string `json:"path,omitempty"`
	// Group is the group that may open Path (Linux), e.g. video.
	Group string `json:"group,omitempty"`
	// SettingsURI opens the page where the agent allows it (Windows), e.g.
	// ms-settings:privacy-webcam.
	SettingsURI string `json:"settings_uri,omitempty"`
}

// CheckDevicePermissions looks for what keeps the camera and microphone from working here:
// Windows privacy settings, missing Linux devices or device files this user may not open. It
// returns nothing where it cannot tell (macOS asks the agent itself, with the bundle's sentence).
func CheckDevicePermissions() []PermissionProblem {
	return checkPermissions()
}

// checkPermissions is checkDevicePermissions; tests replace it.
var checkPermissions = checkDevicePermissions

// PermissionFor returns the problem found for one kind of device, nil when none is known. The
// calls service asks it to explain a device that failed to open.
func PermissionFor(kind media.DeviceKind) *PermissionProblem {
	for _, p := range CheckDevicePermissions() {
		if p.Device == kind {
			return &p
		}
	}
	return nil
}
