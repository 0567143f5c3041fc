//go:build race

package check

// raceEnabled: the race detector is on (about 10x slower), so corpus-sized
// tests take a sample (scripts/test.sh runs them whole without -race).
const raceEnabled = true
