package step

import "sync"

// forEachColumn calls fn(j) for j in [0, n) on up to ctx.NumWorkers()
// goroutines. Each call must only write state of column j, so the result
// does not depend on the worker count. It returns the error of the lowest
// failing j, so errors are deterministic too.
func forEachColumn(ctx *FitContext, n int, fn func(j int) error) error {
	workers := min(ctx.NumWorkers(), n)
	if workers <= 1 {
		for j := 0; j < n; j++ {
			if err := fn(j); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, n)
	next := make(chan int, n)
	for j := 0; j < n; j++ {
		next <- j
	}
	close(next)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				errs[j] = fn(j)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
