package registry

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors, wrapped by the errors of every Store: test them with
// errors.Is.
var (
	// ErrNotFound: the model, version or current version does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the version exists with another artifact (versions are
	// immutable).
	ErrConflict = errors.New("conflict")
	// ErrInvalidName: a model or version name breaks the naming rules
	// (see ValidName).
	ErrInvalidName = errors.New("invalid name")
	// ErrInvalidArtifact: the bytes are not a valid normguard artifact this
	// normguard reads, or the artifact names another model.
	ErrInvalidArtifact = errors.New("invalid artifact")
	// ErrUnauthorized: a server refused a write for want of a valid token.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrDamaged: the registry's own files cannot be read or are not what
	// normguard wrote (edited by hand, cut short, replaced, unreadable).
	// It is the registry's fault, not the request's.
	ErrDamaged = errors.New("registry damaged")
)

// damaged wraps err, an error reading the registry's own files, in
// ErrDamaged; a missing file (fs.ErrNotExist) is left to the caller, as
// are errors already classified.
func damaged(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrDamaged), errors.Is(err, fs.ErrNotExist), errors.Is(err, ErrNotFound),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return fmt.Errorf("%w: %w", ErrDamaged, err)
}

// CurrentAlias is the version name that means "the model's current
// version" in Get and Resolve (as does ""). No version can be named so.
const CurrentAlias = "current"

// Version is one immutable version of a model.
type Version struct {
	// Model and Version name it.
	Model   string `json:"model"`
	Version string `json:"version"`
	// Digest is the artifact's digest, "sha256:<hex>".
	Digest string `json:"digest"`
	// Created is when the version was first stored.
	Created time.Time `json:"created"`
	// Current tells whether it was the model's current version when read.
	Current bool `json:"current"`
}

// Model is a model with its versions, oldest first.
type Model struct {
	Name string `json:"name"`
	// Current is the current version's name ("" when there is none).
	Current  string    `json:"current"`
	Versions []Version `json:"versions"`
	// Damaged, in a listing, says why the model is damaged (ErrDamaged):
	// its files could not be read (Current and Versions are then empty),
	// or its current version's artifact file is missing, not a regular
	// file, or not the artifact the version records for this model
	// (Current and Versions are kept). One damaged model does not hide
	// the others.
	Damaged string `json:"damaged,omitempty"`
}

// PutOptions tune Put. The zero value makes the upload current.
type PutOptions struct {
	// KeepCurrent leaves the model's current version where it is. A
	// model's first version becomes current anyway, so that a model
	// always has a current version once it has any.
	KeepCurrent bool
}

// Store is a model registry.
type Store interface {
	// Put stores data, an encoded artifact, as model@version and, unless
	// opt.KeepCurrent, makes it current. It reports whether the version
	// was created (false: the same artifact was already stored under that
	// version, which is not an error; current still moves). Another
	// artifact under an existing version is ErrConflict; bytes that
	// artifact.Decode refuses, or an artifact fitted for another model,
	// are ErrInvalidArtifact.
	Put(ctx context.Context, model, version string, data []byte, opt PutOptions) (Version, bool, error)
	// Get returns the artifact bytes of model@version. Version "" or
	// "current" is the current version; the Version returned names the
	// one read.
	Get(ctx context.Context, model, version string) ([]byte, Version, error)
	// Resolve returns model@version's metadata ("" or "current": the
	// current version's) without reading the artifact.
	Resolve(ctx context.Context, model, version string) (Version, error)
	// List returns every model, by name, each with its versions oldest
	// first.
	List(ctx context.Context) ([]Model, error)
	// SetCurrent makes an existing version current.
	SetCurrent(ctx context.Context, model, version string) error
}

// OpenTarget opens the registry a user named: an http:// or https:// URL
// is a running server (Dial, with token for writes), anything else a
// folder (Open, created if missing).
func OpenTarget(target, token string) (Store, error) {
	if IsURL(target) {
		return Dial(target, token, nil), nil
	}
	return Open(target)
}

// IsURL tells whether a registry target is a server URL rather than a
// folder.
func IsURL(target string) bool {
	t := strings.ToLower(target)
	return strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://")
}

// isCurrent tells whether a version argument means the current version.
func isCurrent(version string) bool {
	return version == "" || version == CurrentAlias
}

// defaultClient is used by Dial when no client is given.
var defaultClient = &http.Client{}
