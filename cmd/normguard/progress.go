package main

import (
	"io"
	"os"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/normguard/normguard/table"
)

// progressMinBytes and progressMinRows are the input sizes from which a
// progress bar is shown.
const (
	progressMinBytes = 64 << 20
	progressMinRows  = 2_000_000
)

// startProgress shows a progress bar on stderr while r is read, when stderr
// is a terminal, r can report progress and the input is large. It returns
// the function that removes the bar; call it when reading is done.
func startProgress(stderr io.Writer, r table.Reader, label string) (stop func()) {
	pr, ok := r.(table.Progresser)
	f, isFile := stderr.(*os.File)
	if !ok || !isFile || !isTerminal(f) {
		return func() {}
	}
	_, total := pr.Progress()
	_, bytes := r.(*table.CSVReader)
	_, jsonl := r.(*table.JSONLReader)
	bytes = bytes || jsonl
	if total <= 0 || (bytes && total < progressMinBytes) || (!bytes && total < progressMinRows) {
		return func() {}
	}
	p := mpb.New(mpb.WithOutput(f), mpb.WithWidth(40), mpb.WithRefreshRate(200*time.Millisecond))
	counter := decor.CountersNoUnit("%d / %d rows")
	if bytes {
		counter = decor.CountersKibiByte("% .1f / % .1f")
	}
	bar := p.New(total, mpb.BarStyle(),
		mpb.PrependDecorators(decor.Name(label+" "), decor.Percentage(decor.WCSyncSpace)),
		mpb.AppendDecorators(counter, decor.Name("  "), decor.EwmaETA(decor.ET_STYLE_GO, 30)),
		mpb.BarRemoveOnComplete(),
	)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				n, _ := pr.Progress()
				bar.EwmaSetCurrent(n, now.Sub(last))
				last = now
			}
		}
	}()
	return func() {
		close(done)
		bar.SetCurrent(total) // completes and removes the bar
		p.Wait()
	}
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
