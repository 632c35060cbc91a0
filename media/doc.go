// Package media is Parley's call engine: camera and microphone capture (or a stamped test
// pattern and tone), VP8/H.264 and Opus coding, a pion/webrtc peer connection per call,
// decoding and playback of what the other side sends, and a render bridge that hands decoded
// video to any webview as MJPEG over loopback. It never imports Wails, app/ or hub/.
package media
