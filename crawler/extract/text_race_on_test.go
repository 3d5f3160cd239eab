//go:build race

package extract

// raceDetector: the browser test skips itself under the race detector.
const raceDetector = true
