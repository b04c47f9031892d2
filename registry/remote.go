package registry

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Remote is a registry on a running normguard server, reached over the
// routes Handler serves. Writes send "Authorization: Bearer <token>".
// It is safe for concurrent use.
type Remote struct {
	base   string
	token  string
	client *http.Client
	// Stall is how long a request may go without a byte sent or received
	// before it fails (DefaultStall; set it before use).
	Stall time.Duration
}

// Dial returns the registry served at baseURL (e.g.
// "http://localhost:8080"); token authorizes writes ("" sends none), and
// c is the client to use (nil: a default client). Dial does not contact
// the server: the first call does.
func Dial(baseURL, token string, c *http.Client) *Remote {
	if c == nil {
		c = defaultClient
	}
	return &Remote{base: strings.TrimRight(baseURL, "/"), token: token, client: c, Stall: DefaultStall}
}

// URL returns the server's base URL.
func (r *Remote) URL() string { return r.base }

// remoteError is an error answer of the server.
type remoteError struct {
	method, url string
	status      int
	code, msg   string
	kind        error // a sentinel, or nil
}

func (e *remoteError) Error() string {
	msg := e.msg
	if e.kind != nil && !strings.Contains(msg, e.kind.Error()) {
		msg = e.kind.Error() + ": " + msg
	}
	if e.status == http.StatusUnauthorized || e.status == http.StatusForbidden {
		msg += "; set NORMGUARD_TOKEN to the server's token"
	}
	return fmt.Sprintf("registry %s %s: %s (HTTP %d)", e.method, e.url, msg, e.status)
}

func (e *remoteError) Unwrap() error { return e.kind }

// modelURL builds the URL of a route under /v1/models from path
// segments, each escaped.
func (r *Remote) modelURL(segments ...string) string {
	var b strings.Builder
	b.WriteString(r.base)
	b.WriteString("/v1/models")
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// do sends a request and returns the response of a 2xx answer, or the
// server's error. The caller closes the body.
func (r *Remote) do(parent context.Context, method, u string, body []byte, write bool) (*http.Response, error) {
	ctx, end := context.WithCancelCause(parent)
	wd := newWatchdog(cmp.Or(r.Stall, DefaultStall), end)
	var rd io.Reader
	if body != nil {
		rd = &sendReader{r: bytes.NewReader(body), size: len(body), w: wd}
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		wd.stop()
		end(nil)
		return nil, fmt.Errorf("registry %s: %w; check the server URL", u, err)
	}
	if body != nil {
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) {
			return io.NopCloser(&sendReader{r: bytes.NewReader(body), size: len(body), w: wd}), nil
		}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if write && r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		wd.stop()
		cause := context.Cause(ctx)
		end(nil)
		if errors.Is(cause, errStalled) {
			return nil, fmt.Errorf("registry %s %s: %w; check the URL and that `normguard serve` is running there", method, u, cause)
		}
		if parent.Err() != nil {
			return nil, fmt.Errorf("registry %s %s: %w", method, u, parent.Err())
		}
		return nil, fmt.Errorf("registry %s %s: cannot reach the server (%v); check the URL and that `normguard serve` is running", method, u, unwrapURLError(err))
	}
	wd.answered()
	resp.Body = &watchedBody{rc: resp.Body, w: wd, ctx: ctx, end: end}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, readError(method, u, resp)
}

// unwrapURLError drops *url.Error's repetition of the method and URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// readError turns a non-2xx answer into an error wrapping the matching
// sentinel.
func readError(method, u string, resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &remoteError{method: method, url: u, status: resp.StatusCode}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && eb.Error.Code != "" {
		e.code, e.msg = eb.Error.Code, eb.Error.Message
	} else {
		text := strings.TrimSpace(string(body))
		if len(text) > 200 {
			text = text[:200] + "..."
		}
		if text == "" {
			text = http.StatusText(resp.StatusCode)
		}
		e.msg = text
	}
	switch {
	case e.code == CodeInvalidName:
		e.kind = ErrInvalidName
	case e.code == CodeInvalidArtifact:
		e.kind = ErrInvalidArtifact
	case e.code == CodeDamaged:
		e.kind = ErrDamaged
	case resp.StatusCode == http.StatusNotFound:
		e.kind = ErrNotFound
	case resp.StatusCode == http.StatusConflict:
		e.kind = ErrConflict
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		e.kind = ErrUnauthorized
	}
	return e
}

// maxJSONAnswer bounds the JSON answers the client reads (a listing of
// thousands of models with their versions is a few MB; a variable for
// tests).
var maxJSONAnswer int64 = 64 << 20

// decodeJSON reads a JSON answer of at most maxJSONAnswer bytes into v.
func decodeJSON(method, u string, resp *http.Response, v any) error {
	defer resp.Body.Close()
	lr := &io.LimitedReader{R: resp.Body, N: maxJSONAnswer}
	if err := json.NewDecoder(lr).Decode(v); err != nil {
		if errors.Is(err, errStalled) {
			return fmt.Errorf("registry %s %s: %w; check the URL and that `normguard serve` is running there", method, u, err)
		}
		if lr.N == 0 {
			// The decoder read up to the bound and wanted more: the
			// client stopped reading, the answer was not cut (attack run
			// 16 got "unexpected EOF").
			return fmt.Errorf("registry %s %s: the answer is larger than the %d bytes (%d MiB) this client reads of a JSON answer; is this a normguard server?", method, u, maxJSONAnswer, maxJSONAnswer>>20)
		}
		return fmt.Errorf("registry %s %s: the answer is not the expected JSON (%v); is this a normguard server?", method, u, err)
	}
	return nil
}

// Put implements Store with PUT /v1/models/{name}/versions/{version}.
func (r *Remote) Put(ctx context.Context, model, version string, data []byte, opt PutOptions) (Version, bool, error) {
	if err := ValidName(model); err != nil {
		return Version{}, false, fmt.Errorf("model name: %w", err)
	}
	if err := validVersion(version); err != nil {
		return Version{}, false, fmt.Errorf("version name: %w", err)
	}
	u := r.modelURL(model, "versions", version)
	if opt.KeepCurrent {
		u += "?current=false"
	}
	resp, err := r.do(ctx, http.MethodPut, u, data, true)
	if err != nil {
		return Version{}, false, err
	}
	created := resp.StatusCode == http.StatusCreated
	var v Version
	if err := decodeJSON(http.MethodPut, u, resp, &v); err != nil {
		return Version{}, false, err
	}
	return v, created, nil
}

// Resolve implements Store with GET /v1/models/{name} (see Model).
func (r *Remote) Resolve(ctx context.Context, model, version string) (Version, error) {
	if err := ValidName(model); err != nil {
		return Version{}, fmt.Errorf("model name: %w", err)
	}
	if !isCurrent(version) {
		if err := ValidName(version); err != nil {
			return Version{}, fmt.Errorf("version name: %w", err)
		}
	}
	m, err := r.Model(ctx, model)
	if err != nil {
		return Version{}, err
	}
	if isCurrent(version) {
		if m.Current == "" {
			return Version{}, fmt.Errorf("%w: model %q has no current version (registry %s)", ErrNotFound, model, r.base)
		}
		version = m.Current
	}
	for _, v := range m.Versions {
		if v.Version == version {
			return v, nil
		}
	}
	return Version{}, fmt.Errorf("%w: model %q has no version %q (registry %s)", ErrNotFound, model, version, r.base)
}

// Model returns one model with its versions, oldest first, with GET
// /v1/models/{name}.
func (r *Remote) Model(ctx context.Context, name string) (Model, error) {
	if err := ValidName(name); err != nil {
		return Model{}, fmt.Errorf("model name: %w", err)
	}
	u := r.modelURL(name)
	resp, err := r.do(ctx, http.MethodGet, u, nil, false)
	if err != nil {
		return Model{}, err
	}
	var m Model
	if err := decodeJSON(http.MethodGet, u, resp, &m); err != nil {
		return Model{}, err
	}
	return m, nil
}

// List implements Store with GET /v1/models.
func (r *Remote) List(ctx context.Context) ([]Model, error) {
	u := r.modelURL()
	resp, err := r.do(ctx, http.MethodGet, u, nil, false)
	if err != nil {
		return nil, err
	}
	var l listBody
	if err := decodeJSON(http.MethodGet, u, resp, &l); err != nil {
		return nil, err
	}
	if l.Models == nil {
		l.Models = []Model{}
	}
	return l.Models, nil
}

// SetCurrent implements Store with PUT /v1/models/{name}/current.
func (r *Remote) SetCurrent(ctx context.Context, model, version string) error {
	if err := ValidName(model); err != nil {
		return fmt.Errorf("model name: %w", err)
	}
	if err := validVersion(version); err != nil {
		return fmt.Errorf("version name: %w", err)
	}
	body, err := json.Marshal(currentBody{Version: version})
	if err != nil {
		return err
	}
	u := r.modelURL(model, "current")
	resp, err := r.do(ctx, http.MethodPut, u, body, true)
	if err != nil {
		return err
	}
	var v Version
	return decodeJSON(http.MethodPut, u, resp, &v)
}
