//go:build race

package core_test

// raceEnabled says the race detector is on: the transpiled SQLite costs
// about 30x under it, so corpus-sized tests take a sample (scripts/test.sh
// runs them whole without -race).
const raceEnabled = true
