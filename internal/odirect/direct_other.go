//go:build !linux

package odirect

import (
	"errors"
	"os"
)

// setDirect reports that O_DIRECT is not used on this system.
func setDirect(*os.File, bool) error { return errors.ErrUnsupported }

func isInvalid(error) bool { return false }
