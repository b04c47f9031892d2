//go:build !linux

package main

import "time"

// A pacer waits until the next request is due (time.Sleep outside Linux:
// see pacer_linux.go for why Linux uses a timerfd).
type pacer struct{}

func newPacer() (*pacer, error) { return &pacer{}, nil }

func (p *pacer) wait(d time.Duration) error {
	time.Sleep(d)
	return nil
}

func (p *pacer) close() {}
