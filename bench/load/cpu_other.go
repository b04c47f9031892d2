//go:build !unix

package main

// selfCPU is not measured outside Unix.
func selfCPU() (float64, bool) { return 0, false }
