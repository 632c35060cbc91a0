package media

import "errors"

// ErrNoCamera indicates that no camera is present (or the chosen one is gone).
var ErrNoCamera = errors.New("media: no camera")

// ErrNoMicrophone indicates that no microphone is present (or the chosen one is gone).
var ErrNoMicrophone = errors.New("media: no microphone")

// ErrNoSpeaker indicates that no audio output device could be opened; the call goes on without
// sound, so callers show a warning rather than end the call.
var ErrNoSpeaker = errors.New("media: no audio output device")

// ErrPermissionDenied indicates that the operating system refused access to a camera or microphone.
var ErrPermissionDenied = errors.New("media: permission denied")

// ErrDeviceBusy indicates that another program holds the device.
var ErrDeviceBusy = errors.New("media: device busy")

// ErrNoCodec indicates that the two peers share no audio or video codec this build supports.
var ErrNoCodec = errors.New("media: no common codec")

// ErrClosed indicates an operation on a call that has already been closed.
var ErrClosed = errors.New("media: call closed")

// ErrBadState indicates a signalling step that does not fit the call's current state (for
// example an answer when no offer is outstanding).
var ErrBadState = errors.New("media: wrong signalling state")

// ErrNoVideo indicates a video operation on a call that has no video.
var ErrNoVideo = errors.New("media: call has no video")
