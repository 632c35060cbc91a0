//go:build !race

package media

// raceDetector is true in a -race build (race_test.go).
const raceDetector = false
