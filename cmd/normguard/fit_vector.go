package main

import (
	"github.com/normguard/normguard/fit"
)

// vectorFitOptions turns --embedding-model and --canaries into the fit's
// vector options.
func vectorFitOptions(o fitOptions) (fit.VectorOptions, error) {
	vo := fit.VectorOptions{EmbeddingModel: o.embeddingModel}
	if o.canaries != "" {
		c, err := fit.ReadCanaries(o.canaries)
		if err != nil {
			return vo, err
		}
		vo.Canaries = c
	}
	return vo, nil
}
