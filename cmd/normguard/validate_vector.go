package main

import (
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/validate"
)

// validateVectorOptions turns --canaries into the checks' vector options.
func validateVectorOptions(o validateOptions) (validate.VectorOptions, error) {
	var vo validate.VectorOptions
	if o.canaries == "" {
		return vo, nil
	}
	c, err := fit.ReadCanaries(o.canaries)
	if err != nil {
		return vo, err
	}
	vo.Canaries = c
	return vo, nil
}
