package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/normguard/normguard/artifact"
)

// Error codes of the JSON error body (see WriteError).
const (
	// CodeNotFound (404): no such model, version or endpoint.
	CodeNotFound = "not_found"
	// CodeConflict (409): the version exists with another artifact.
	CodeConflict = "conflict"
	// CodeInvalidName (400): a model or version name breaks ValidName.
	CodeInvalidName = "invalid_name"
	// CodeInvalidArtifact (400): the upload is not a valid artifact, or
	// was fitted for another model.
	CodeInvalidArtifact = "invalid_artifact"
	// CodeBadRequest (400): a malformed request (body, query).
	CodeBadRequest = "bad_request"
	// CodeTooLarge (413): the request body is over the limit.
	CodeTooLarge = "too_large"
	// CodeMethod (405): the path exists for other methods (see Allow).
	CodeMethod = "method_not_allowed"
	// CodeInternal (5xx): the store failed (e.g. the disk).
	CodeInternal = "internal"
	// CodeDamaged (503): the registry's files are damaged or unreadable
	// (ErrDamaged): repair them (push the version again) or restore the
	// folder.
	CodeDamaged = "registry_damaged"
)

// DigestHeader carries the artifact's digest on uploads' and downloads'
// answers.
const DigestHeader = "Normguard-Artifact-Digest"

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// listBody is the answer of GET /v1/models.
type listBody struct {
	Models []Model `json:"models"`
}

// currentBody is the request of PUT /v1/models/{name}/current.
type currentBody struct {
	Version string `json:"version"`
}

// WriteError writes the JSON error answer
//
//	{"error": {"code": "not_found", "message": "..."}}
//
// with status.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, msg
	WriteJSON(w, status, b)
}

// WriteJSON answers v as JSON with status (a 500 error body if v does
// not encode). The server's other endpoints answer through it too.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"internal","message":"encoding the answer failed"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// writeStoreError answers with the status and code of a Store error.
func writeStoreError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		WriteError(w, http.StatusNotFound, CodeNotFound, err.Error())
	case errors.Is(err, ErrConflict):
		WriteError(w, http.StatusConflict, CodeConflict, err.Error())
	case errors.Is(err, ErrInvalidName):
		WriteError(w, http.StatusBadRequest, CodeInvalidName, err.Error())
	case errors.Is(err, ErrInvalidArtifact):
		WriteError(w, http.StatusBadRequest, CodeInvalidArtifact, err.Error())
	case errors.Is(err, ErrDamaged):
		WriteError(w, http.StatusServiceUnavailable, CodeDamaged, err.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		WriteError(w, http.StatusServiceUnavailable, CodeInternal, "the request was canceled or timed out: "+err.Error())
	default:
		WriteError(w, http.StatusInternalServerError, CodeInternal, err.Error())
	}
}

// Handler serves s over HTTP:
//
//	GET /v1/models                                       {"models": [Model...]}
//	GET /v1/models/{name}                                Model
//	PUT /v1/models/{name}/versions/{version}[?current=false]   body: artifact; 201 created or 200 unchanged, Version
//	GET /v1/models/{name}/versions/{version}/artifact    artifact bytes ({version} may be "current")
//	PUT /v1/models/{name}/current                        body {"version": "v2"}; Version
//
// Upload and download answers carry the artifact's digest in the
// Normguard-Artifact-Digest header; downloads also name the version read
// (useful with "current") in Normguard-Model-Version, and the digest as
// ETag. A Local store's downloads are sent from the verified artifact
// file (Local.OpenArtifact), so a download costs no memory for the
// artifact, however many clients read at once and however slowly; the
// number of downloads is not bounded here. Errors are JSON (WriteError) with a
// 4xx status (5xx for a failing disk): 404 not_found, 409 conflict, 400
// invalid_name, invalid_artifact or bad_request, 413 too_large, 405
// method_not_allowed. The handler does no authorization and sets no body
// limit beyond artifact.MaxSize: a server wraps the writes (PUT) with
// both; a body cut by http.MaxBytesReader answers 413.
func Handler(s Store) http.Handler {
	h := &handler{s: s}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models", h.list)
	mux.HandleFunc("GET /v1/models/{name}", h.model)
	mux.HandleFunc("PUT /v1/models/{name}/versions/{version}", h.put)
	mux.HandleFunc("GET /v1/models/{name}/versions/{version}/artifact", h.artifact)
	mux.HandleFunc("PUT /v1/models/{name}/current", h.setCurrent)
	for path, allow := range map[string]string{
		"/v1/models":                                    "GET, HEAD",
		"/v1/models/{name}":                             "GET, HEAD",
		"/v1/models/{name}/versions/{version}":          "PUT",
		"/v1/models/{name}/versions/{version}/artifact": "GET, HEAD",
		"/v1/models/{name}/current":                     "PUT",
	} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			WriteError(w, http.StatusMethodNotAllowed, CodeMethod, fmt.Sprintf("%s %s is not allowed; use %s", r.Method, r.URL.Path, allow))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, CodeNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return mux
}

type handler struct{ s Store }

// streamPutter is a Store that takes an upload as a stream (Local), so
// the handler never holds the artifact's bytes in memory.
type streamPutter interface {
	PutFrom(ctx context.Context, model, version string, r io.Reader, opt PutOptions) (Version, bool, error)
}

// modelStore is a Store that reads one model without listing them all
// (Local and Remote are).
type modelStore interface {
	Model(ctx context.Context, name string) (Model, error)
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	ms, err := h.s.List(r.Context())
	if err != nil {
		writeStoreError(w, err)
		return
	}
	if ms == nil {
		ms = []Model{}
	}
	WriteJSON(w, http.StatusOK, listBody{Models: ms})
}

func (h *handler) model(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := ValidName(name); err != nil {
		writeStoreError(w, fmt.Errorf("model name: %w", err))
		return
	}
	if ms, ok := h.s.(modelStore); ok {
		m, err := ms.Model(r.Context(), name)
		if err != nil {
			writeStoreError(w, err)
			return
		}
		WriteJSON(w, http.StatusOK, m)
		return
	}
	ms, err := h.s.List(r.Context())
	if err != nil {
		writeStoreError(w, err)
		return
	}
	for _, m := range ms {
		if m.Name == name {
			WriteJSON(w, http.StatusOK, m)
			return
		}
	}
	writeStoreError(w, fmt.Errorf("%w: no model %q in the registry", ErrNotFound, name))
}

func (h *handler) put(w http.ResponseWriter, r *http.Request) {
	keep := false
	q := r.URL.Query()
	_, given := q["current"]
	switch c := q.Get("current"); {
	case !given, c == "true":
	case c == "false":
		keep = true
	default: // given empty ("?current=") it says neither
		WriteError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("query parameter current=%q: use true or false", c))
		return
	}
	var v Version
	var created bool
	var err error
	if sp, ok := h.s.(streamPutter); ok {
		v, created, err = sp.PutFrom(r.Context(), r.PathValue("name"), r.PathValue("version"), r.Body, PutOptions{KeepCurrent: keep})
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			WriteError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("the request body is larger than the server's limit of %d bytes", tooLarge.Limit))
			return
		case errors.Is(err, ErrTooLarge):
			WriteError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, err.Error())
			return
		case errors.Is(err, errBody):
			WriteError(w, http.StatusBadRequest, CodeBadRequest, err.Error())
			return
		}
	} else {
		data, ok := readBody(w, r, artifact.MaxSize)
		if !ok {
			return
		}
		v, created, err = h.s.Put(r.Context(), r.PathValue("name"), r.PathValue("version"), data, PutOptions{KeepCurrent: keep})
	}
	if err != nil {
		writeStoreError(w, err)
		return
	}
	w.Header().Set(DigestHeader, v.Digest)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	WriteJSON(w, status, v)
}

func (h *handler) artifact(w http.ResponseWriter, r *http.Request) {
	if fo, ok := h.s.(fileOpener); ok {
		serveArtifact(w, r, fo) // from the verified file: flat memory
		return
	}
	data, v, err := h.s.Get(r.Context(), r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	setArtifactHeaders(w, v, int64(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(data)
	}
}

func (h *handler) setCurrent(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, 1<<16)
	if !ok {
		return
	}
	req, err := decodeCurrent(body)
	if err != nil {
		WriteError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf(`the body must be {"version": "<version>"}: %v`, err))
		return
	}
	if req.Version == "" {
		WriteError(w, http.StatusBadRequest, CodeBadRequest, `the body must be {"version": "<version>"}: version is missing`)
		return
	}
	name := r.PathValue("name")
	if err := h.s.SetCurrent(r.Context(), name, req.Version); err != nil {
		writeStoreError(w, err)
		return
	}
	v, err := h.s.Resolve(r.Context(), name, req.Version)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, v)
}

// decodeCurrent reads the body of PUT .../current: one JSON object whose
// only key is "version", spelled so, given once, and nothing after it.
// encoding/json alone took the last of two "version" keys, read
// {"Version": ...} as "version" and ignored a second object, so a
// request whose intent was unclear moved the current version (attack
// run 15).
func decodeCurrent(body []byte) (currentBody, error) {
	var req currentBody
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return req, errors.New("not a JSON object")
	}
	seen := false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return req, err
		}
		key, _ := t.(string)
		switch {
		case key != "version":
			return req, fmt.Errorf("unknown key %q", key)
		case seen:
			return req, errors.New(`"version" is given twice`)
		}
		seen = true
		if err := dec.Decode(&req.Version); err != nil {
			return req, fmt.Errorf("version: %v", err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return req, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return req, errors.New("unexpected data after the JSON object")
	}
	return req, nil
}

// readBody reads a request body of at most limit bytes. A body over the
// limit, or over a limit the server set with http.MaxBytesReader, answers
// 413; another read error 400. ok is false when it answered.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	data, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		WriteError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("the request body is larger than the server's limit of %d bytes", tooLarge.Limit))
		return nil, false
	case err != nil:
		WriteError(w, http.StatusBadRequest, CodeBadRequest, "reading the request body: "+err.Error())
		return nil, false
	case int64(len(data)) > limit:
		WriteError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("the request body is larger than %d bytes", limit))
		return nil, false
	}
	return data, true
}
