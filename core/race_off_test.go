//go:build !race

package core_test

// raceEnabled says the race detector is on (see race_on_test.go).
const raceEnabled = false
