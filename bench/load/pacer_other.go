//go:build !linux

package main

import "time"

// A pacer wakes the sending loop every interval (a time.Ticker outside
// Linux: see pacer_linux.go for why Linux uses a timerfd).
type pacer struct{ t *time.Ticker }

func newPacer() (*pacer, error) { return &pacer{}, nil }

// start starts ticking at origin + interval, then every interval.
func (p *pacer) start(origin time.Time, interval time.Duration) error {
	time.Sleep(time.Until(origin.Add(interval)))
	p.t = time.NewTicker(interval)
	return nil
}

func (p *pacer) tick() error {
	<-p.t.C
	return nil
}

func (p *pacer) close() {
	if p.t != nil {
		p.t.Stop()
	}
}
