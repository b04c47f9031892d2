// Package stats holds normguard's numerical building blocks: exact,
// mergeable accumulators and the order statistics, special functions and
// optimizers that the steps and drift tests share. It depends on the
// standard library only.
package stats
