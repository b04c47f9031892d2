//go:build !linux

package server

import "os"

// syncData makes f's data durable (f.Sync where there is no fdatasync).
func syncData(f *os.File) error { return f.Sync() }
