package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"

	"github.com/normguard/normguard/registry"
)

// apiError is an error with the HTTP status and code it is answered with.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "bad_request", fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{http.StatusNotFound, "not_found", fmt.Sprintf(format, args...)}
}

// writeJSON and writeError answer as the registry's endpoints do, so
// every endpoint has one error shape: {"error":{"code":"...","message":"..."}}.
var (
	writeJSON  = registry.WriteJSON
	writeError = registry.WriteError
)

// fail answers err and returns the status: an *apiError with its own
// status, a body over the limit with 413, registry errors with their
// statuses (a damaged registry 503), anything else 400.
func fail(w http.ResponseWriter, err error) int {
	status, code, msg := http.StatusBadRequest, "bad_request", err.Error()
	var ae *apiError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		status, code = ae.status, ae.code
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
		}
	case errors.As(err, &tooBig):
		status, code = http.StatusRequestEntityTooLarge, "too_large"
		msg = fmt.Sprintf("request body over %d bytes: send fewer rows per request", tooBig.Limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The body stopped arriving: said so, not with the socket's
		// addresses (attack run 30 F4).
		status, code = http.StatusRequestTimeout, "request_timeout"
		msg = "the request body did not arrive in full within the server's read timeout: send the whole body at once, as its Content-Length says"
	case errors.Is(err, io.ErrUnexpectedEOF):
		msg = "the request body ended before the length its Content-Length (or chunked encoding) announced: send the whole body"
	case errors.Is(err, registry.ErrNotFound):
		status, code = http.StatusNotFound, "not_found"
	case errors.Is(err, registry.ErrInvalidName):
		code = registry.CodeInvalidName
	case errors.Is(err, registry.ErrInvalidArtifact):
		code = registry.CodeInvalidArtifact
	case errors.Is(err, registry.ErrConflict):
		status, code = http.StatusConflict, registry.CodeConflict
	case errors.Is(err, registry.ErrDamaged):
		// The registry folder's fault, not the request's.
		status, code = http.StatusServiceUnavailable, registry.CodeDamaged
	}
	writeError(w, status, code, msg)
	return status
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusMethodNotAllowed, "method_not_allowed",
		fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path))
}

// recoverPanics turns a panic in a handler into a logged 500, keeping the
// process alive. It is a last line of defence: bad input is answered 4xx
// long before.
func (s *Server) recoverPanics(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path,
					"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				writeError(w, http.StatusInternalServerError, "internal", "internal error; see the server log")
			}
		}()
		h.ServeHTTP(w, r)
	})
}
