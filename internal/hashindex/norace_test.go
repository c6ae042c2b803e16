//go:build !race

package hashindex

// raceEnabled is true under -race, which slows the brute-force property
// tests about tenfold; they then run a subset.
const raceEnabled = false
