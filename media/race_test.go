//go:build race

package media

// raceDetector is true in a -race build, where decoding and encoding audio run many times slower:
// media tests then ask for fewer frames and skip their rate bounds.
const raceDetector = true
