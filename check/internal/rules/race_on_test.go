//go:build race

package rules

// raceEnabled: the race detector is on (about 10x slower), so corpus-sized
// tests take a sample.
const raceEnabled = true
