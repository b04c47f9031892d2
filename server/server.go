// Package server is normguard's HTTP service: the model registry, the
// transform API (the transform package's one engine, so the bits equal the
// CLI's), live monitoring of what production sends, Prometheus metrics and a
// dashboard.
//
// Routes (interface.md "The service"):
//
//	POST /v1/models/{name}/transform                    current version
//	POST /v1/models/{name}/versions/{version}/transform a given version
//	POST /v1/models/{name}/observations                 rows fed to the model, for monitoring
//	GET  /v1/models/{name}/drift                        open window vs training profile
//	GET  /v1/models/{name}/history                      closed windows, oldest first
//	GET  /v1/models, PUT /v1/models/{name}/versions/{version}, ... (registry.Handler)
//	GET  /metrics, GET /healthz, GET / (dashboard)
//
// Writes to the registry need "Authorization: Bearer <token>". Every error
// is a JSON body {"error":{"code","message"}} with a 4xx status; a panic in a
// handler is recovered and reported as a 500 without killing the process.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/normguard/normguard/dashboard"
	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/registry"
)

// Defaults of Config's zero values.
const (
	DefaultMaxBodyBytes     = 32 << 20
	DefaultMaxArtifactBytes = 256 << 20
	DefaultMaxRows          = 100_000
	DefaultReadTimeout      = 30 * time.Second
	DefaultWriteTimeout     = 60 * time.Second
	DefaultIdleTimeout      = 120 * time.Second
	DefaultShutdownTimeout  = 15 * time.Second
)

// Config configures a Server. Registry is required; the rest work at their
// zero values.
type Config struct {
	// Registry stores the artifacts the server applies.
	Registry registry.Store
	// Monitor keeps the windowed statistics; nil disables monitoring
	// (/observations, /drift and /history answer 404).
	Monitor *monitor.Monitor
	// Token authorizes writes (Authorization: Bearer <Token>). Empty
	// refuses every write.
	Token string
	// AuthAll requires the token on /transform and /observations too.
	AuthAll bool
	// MaxBodyBytes bounds request bodies other than artifact uploads.
	MaxBodyBytes int64
	// MaxArtifactBytes bounds artifact uploads.
	MaxArtifactBytes int64
	// MaxInflightBodyBytes bounds the transform and observations bodies
	// being read and answered at once (default 4 × MaxBodyBytes; each
	// byte of a body in flight costs about 5 of memory at its peak); see
	// budget.go.
	MaxInflightBodyBytes int64
	// MaxUploads bounds the artifact uploads received at once (default
	// DefaultMaxUploads).
	MaxUploads int
	// MaxRows bounds the rows of one transform or observations request.
	MaxRows int
	// MaxTransformers and MaxTransformerBytes bound the prepared
	// transformers kept in memory besides those of the models' current
	// versions: their number, and their artifacts' bytes together
	// (defaults DefaultMaxTransformers and DefaultMaxTransformerBytes;
	// see transformerCache).
	MaxTransformers     int
	MaxTransformerBytes int64
	// HeapFloor is the size of the heap ballast Serve holds (default
	// DefaultHeapFloor; negative: none), so that a small live heap is not
	// collected many times a second (see gc.go).
	HeapFloor int64
	// ReadTimeout, WriteTimeout and IdleTimeout configure http.Server.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// Logger receives request errors and lifecycle events (nil: discard).
	Logger *slog.Logger
	// Ingest, when set, is added to /healthz as "ingest" (the Kafka
	// consumer's counts of records, rows and bad records, and its
	// brokers); a problem it reports ("" for none) makes the status
	// "degraded" and is listed under "problems".
	Ingest func() (stats any, problem string)
	// Peers are the base URLs of the other replicas: /drift then answers
	// for the merged window state of all of them (peers.go).
	Peers []string
	// VectorState, when set, is the file that keeps the vector
	// observations' windows across restarts (vectors_state.go);
	// VectorWindow is their length (0: monitor.DefaultWindow), and
	// VectorStateRecover moves a damaged file aside instead of refusing it.
	VectorState        string
	VectorWindow       time.Duration
	VectorStateRecover bool
	// VectorsOff refuses vector observations (?producer=) and GET
	// .../vectors as feature observations are refused without a Monitor:
	// 404 "monitoring is off on this server" (serve --no-monitor). Without
	// it, vector windows are kept in memory only when VectorState is "".
	VectorsOff bool
}

// Server serves one registry. It is safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	reg     *prometheus.Registry
	cache   transformerCache
	handler http.Handler
	bodies  byteBudget
	uploads chan struct{}
	vectors vectorWindows // vector observations per producer (vectors.go)
	// merging admits one merged /drift (peers.go) at a time: each holds
	// every peer's window state.
	merging chan struct{}
	// health checks the registry folder for /healthz (registry_health.go).
	health registryHealth
}

// New returns a server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Registry == nil {
		return nil, errors.New("server: a registry is required")
	}
	if err := checkPeers(cfg); err != nil { // peers.go
		return nil, err
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxArtifactBytes <= 0 {
		cfg.MaxArtifactBytes = DefaultMaxArtifactBytes
	}
	if cfg.MaxInflightBodyBytes <= 0 {
		cfg.MaxInflightBodyBytes = 4 * cfg.MaxBodyBytes
	}
	if cfg.MaxUploads <= 0 {
		cfg.MaxUploads = DefaultMaxUploads
	}
	if cfg.HeapFloor == 0 {
		cfg.HeapFloor = DefaultHeapFloor
	}
	if cfg.MaxRows <= 0 {
		cfg.MaxRows = DefaultMaxRows
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, reg: prometheus.NewRegistry(),
		bodies: byteBudget{limit: cfg.MaxInflightBodyBytes}, uploads: make(chan struct{}, cfg.MaxUploads),
		merging: make(chan struct{}, 1)}
	s.cache.store, s.cache.max, s.cache.maxBytes = cfg.Registry, cfg.MaxTransformers, cfg.MaxTransformerBytes
	s.health.store, _ = cfg.Registry.(problemLister)
	s.health.log, s.health.every, s.health.recheckWait = log, registryHealthEvery, registryRecheckWait
	s.metrics = newMetrics(s.reg)
	s.reg.MustRegister(s.vectors.failingGauge())
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if cfg.Monitor != nil {
		if err := s.reg.Register(cfg.Monitor.Collector()); err != nil {
			return nil, fmt.Errorf("server: registering the monitor's metrics: %w", err)
		}
	}
	s.handler = s.routes()
	if err := s.openVectors(context.Background()); err != nil { // vectors_state.go
		return nil, err
	}
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Registry returns the Prometheus registry /metrics exposes.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	reg := registry.Handler(s.cfg.Registry)
	writes := s.requireToken(s.health.afterWrites(http.MaxBytesHandler(reg, s.cfg.MaxArtifactBytes)))
	// Each endpoint names the query parameters it reads (reads); any
	// other is a 400.
	mux.Handle("GET /v1/models", reads(reg))
	mux.Handle("GET /v1/models/{name}", reads(reg))
	mux.Handle("GET /v1/models/{name}/versions/{version}/artifact", reads(reg))
	mux.Handle("PUT /v1/models/{name}/versions/{version}", reads(s.requireToken(s.uploadSlotted(s.health.afterWrites(http.MaxBytesHandler(reg, s.cfg.MaxArtifactBytes)))), "current"))
	mux.Handle("PUT /v1/models/{name}/current", reads(writes))

	data := func(h http.HandlerFunc) http.Handler {
		if s.cfg.AuthAll {
			return s.requireToken(s.budgeted(h))
		}
		return s.budgeted(h)
	}
	mux.Handle("POST /v1/models/{name}/transform", reads(data(s.handleTransform)))
	mux.Handle("POST /v1/models/{name}/versions/{version}/transform", reads(data(s.handleTransform)))
	// ?producer= records vectors (vectorObservations), which read no stage.
	mux.Handle("POST /v1/models/{name}/observations", reads(data(s.handleObservations), "stage", "version", "producer"))
	mux.Handle("GET /v1/models/{name}/drift", reads(http.HandlerFunc(s.handleDriftOrPeers), "stage", "plots"))
	mux.Handle("GET /v1/models/{name}/window-state", reads(s.requireToken(http.HandlerFunc(s.handleWindowState)), "history"))
	mux.Handle("GET /v1/models/{name}/history", reads(http.HandlerFunc(s.handleHistory), "stage"))
	mux.Handle("GET /v1/models/{name}/vectors", reads(http.HandlerFunc(s.handleVectors), "version"))

	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		// Liveness: the service answers 200 while it serves, and says
		// what does not work in the body (an unreachable Kafka cluster
		// leaves transforms and the registry working; restarting would
		// not help).
		health := map[string]any{"status": "ok"}
		var problems []string
		if s.cfg.Ingest != nil {
			stats, problem := s.cfg.Ingest()
			health["ingest"] = stats
			if problem != "" {
				problems = append(problems, problem)
			}
		}
		// A registry model damaged by hand is answered 503 by the
		// requests that need it; it is a problem here too.
		problems = append(problems, s.health.current()...)
		// A state file that cannot be written (a full disk) refuses the
		// observations (500 state_not_saved) and holds back the
		// transforms' inputs until a commit succeeds again.
		if s.cfg.Monitor != nil {
			if problem := s.cfg.Monitor.Problem(); problem != "" {
				problems = append(problems, problem)
			}
			if problem := s.cfg.Monitor.AlertProblem(); problem != "" {
				problems = append(problems, problem)
			}
			// Rows kept without the reference to judge them (a
			// recovery lost it and the registry had none to give).
			problems = append(problems, s.cfg.Monitor.ReferenceProblems()...)
		}
		if problem := s.vectors.problem(); problem != "" {
			problems = append(problems, problem)
		}
		if len(problems) > 0 {
			health["status"] = "degraded"
			health["problems"] = problems
		}
		writeJSON(w, http.StatusOK, health)
	})
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	// A path served for other methods answers 405 in JSON, not the mux's
	// plain text: a pattern with a method beats the same path without one.
	for _, path := range []string{
		"/v1/models", "/v1/models/{name}", "/v1/models/{name}/versions/{version}",
		"/v1/models/{name}/versions/{version}/artifact", "/v1/models/{name}/current",
		"/v1/models/{name}/transform", "/v1/models/{name}/versions/{version}/transform",
		"/v1/models/{name}/observations", "/v1/models/{name}/drift",
		"/v1/models/{name}/history", "/v1/models/{name}/window-state", "/metrics", "/healthz",
	} {
		mux.HandleFunc(path, methodNotAllowed)
	}
	mux.Handle("/", dashboard.Handler())
	return s.recoverPanics(refuseUncleanPaths(refuseAmbiguousQueries(refuseEncodedBodies(mux))))
}

// refuseAmbiguousQueries answers an API request whose query gives a
// parameter twice or does not parse with a JSON 400: the handlers read a
// parameter's first value, so ?stage=output&stage=input stored rows as
// output without a word (attack run 13). Which parameters an endpoint
// reads is its own (reads).
func refuseAmbiguousQueries(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" && strings.HasPrefix(r.URL.Path, "/v1/") {
			q, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				writeError(w, http.StatusBadRequest, "bad_query", fmt.Sprintf("the query does not parse: %v", err))
				return
			}
			for _, k := range slices.Sorted(maps.Keys(q)) {
				if len(q[k]) > 1 {
					writeError(w, http.StatusBadRequest, "bad_query",
						fmt.Sprintf("query parameter %s is given %d times; give it once", errtext.Quote(k), len(q[k])))
					return
				}
			}
		}
		h.ServeHTTP(w, r)
	})
}

// reads answers a request whose query names a parameter other than names
// with a JSON 400: a parameter one endpoint reads was dropped without a
// word by another (?version=1 on /transform transformed with the current
// version, attack run 15).
func reads(h http.Handler, names ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			for k := range r.URL.Query() {
				if slices.Contains(names, k) {
					continue
				}
				takes := "takes no query parameters"
				if len(names) > 0 {
					takes = "reads only " + strings.Join(names, ", ")
				}
				msg := fmt.Sprintf("unknown query parameter %s: %s %s %s", errtext.Quote(k), r.Method, r.URL.Path, takes)
				if k == "version" && strings.HasSuffix(r.URL.Path, "/transform") {
					msg += "; transform with a version at /v1/models/{name}/versions/{version}/transform"
				}
				writeError(w, http.StatusBadRequest, "bad_query", msg)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// flag reads a yes/no query parameter: 1 or true, 0 or false, or absent
// (false). Any other value is a 400 rather than a silent no (?plots=yes
// answered without plots, attack run 15).
func flag(r *http.Request, name string) (bool, error) {
	q := r.URL.Query()
	if _, given := q[name]; !given {
		return false, nil
	}
	// Given, it says yes or no: "?history" or "?history=" read as no
	// answered one window where the caller asked for all (attack run 16).
	switch v := q.Get(name); v {
	case "1", "true":
		return true, nil
	case "0", "false":
		return false, nil
	default:
		return false, &apiError{http.StatusBadRequest, "bad_query", fmt.Sprintf("query parameter %s=%s: use 1 or true, 0 or false", name, errtext.Quote(v))}
	}
}

// refuseEncodedBodies answers a request whose body has a Content-Encoding
// (gzip, say) with a JSON 415: bodies are read as they come, so a
// compressed one would be refused as invalid JSON or an invalid artifact
// at byte 0, naming the wrong cause.
func refuseEncodedBodies(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, v := range r.Header.Values("Content-Encoding") {
			for _, enc := range strings.Split(v, ",") {
				if enc = strings.TrimSpace(enc); enc != "" && !strings.EqualFold(enc, "identity") {
					writeError(w, http.StatusUnsupportedMediaType, "unsupported_encoding",
						fmt.Sprintf("Content-Encoding %q is not supported: send the body uncompressed", enc))
					return
				}
			}
		}
		h.ServeHTTP(w, r)
	})
}

// refuseUncleanPaths answers a path with an empty, "." or ".." segment
// (after percent-decoding) with a JSON 400, where http.ServeMux would
// redirect to the cleaned path.
func refuseUncleanPaths(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p != "/" && r.Method != http.MethodConnect && uncleanPath(p) {
			writeError(w, http.StatusBadRequest, "bad_path",
				fmt.Sprintf("the path %q has an empty, \".\" or \"..\" segment; send the path without them", p))
			return
		}
		// An encoded slash made one segment of two: POST
		// /v1/models/m%2Ftransform matched GET /v1/models/{name} and was
		// told POST is not allowed on /v1/models/m/transform, the path
		// that takes it (attack run 15).
		if raw := r.URL.RawPath; raw != "" && strings.HasPrefix(r.URL.Path, "/v1/") && strings.Contains(strings.ToLower(raw), "%2f") {
			writeError(w, http.StatusBadRequest, "bad_path",
				fmt.Sprintf("the path %q holds an encoded slash (%%2F): model and version names cannot hold \"/\"; send the path with plain slashes between its segments", raw))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// uncleanPath tells whether p does not start with "/" or has a ".", ".."
// or empty segment (a trailing slash excepted), without allocating: it
// runs on every request.
func uncleanPath(p string) bool {
	rest, ok := strings.CutPrefix(p, "/")
	if !ok {
		return true
	}
	for {
		seg, after, more := strings.Cut(rest, "/")
		if seg == "." || seg == ".." || (seg == "" && more) {
			return true
		}
		if !more {
			return false
		}
		rest = after
	}
}

// Serve accepts connections on ln until ctx is done, then shuts down
// gracefully: it stops accepting, lets requests in flight finish (up to
// DefaultShutdownTimeout) and closes the monitor, which flushes every
// observation to disk.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	ballast := heapBallast(s.cfg.HeapFloor)
	defer keepBallast(ballast)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
		s.log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), DefaultShutdownTimeout)
		serveErr = hs.Shutdown(sctx)
		cancel()
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	if s.cfg.Monitor != nil {
		if err := s.cfg.Monitor.Close(); err != nil && serveErr == nil {
			serveErr = fmt.Errorf("closing the monitor: %w", err)
		}
	}
	return serveErr
}
