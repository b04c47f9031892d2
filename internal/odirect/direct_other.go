//go:build !linux

package odirect

import (
	"errors"
	"os"
)

// mapBuffers reports that there are no direct writes here.
func mapBuffers(int) (region, mapping []byte, err error) { return nil, nil, errors.ErrUnsupported }

func unmap([]byte) {}

// setDirect reports that O_DIRECT is not used on this system.
func setDirect(*os.File, bool) error { return errors.ErrUnsupported }

func isInvalid(error) bool { return false }
