//go:build !linux && !windows

package app

// checkDevicePermissions finds nothing: macOS asks the agent itself the first time, with the
// usage sentences of the bundle's Info.plist.
func checkDevicePermissions() []PermissionProblem { return nil }
