package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/registry"
	"github.com/normguard/normguard/server"
)

type serveOptions struct {
	registry string
	addr     string
	state    string
	window   time.Duration
	eval     time.Duration
	webhook  string
	maxBody  int64
	maxRows  int
	noMon    bool
	recover  bool
	authAll  bool
	budget   int64
	inflight int64
	maxArt   int64
	uploads  int
	xforms   int   // --max-transformers
	xbytes   int64 // --max-transformer-bytes
	kafka    kafkaOptions
	timeCol  string   // event time (monitor/event.go)
	peers    []string // other replicas (server/peers.go)
}

func newServeCmd() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve --registry DIR --addr HOST:PORT",
		Short: "Serve the transform API, the registry, monitoring, metrics and a dashboard",
		Long: `serve runs normguard's HTTP service over a registry folder (created if
missing). Uploads need Authorization: Bearer <token>, the token being the
NORMGUARD_TOKEN environment variable; without it the server refuses writes.

Monitoring keeps tumbling windows of what production sends in an embedded
store (--state, by default DIR/monitor.db): an acknowledged observation
survives a restart or a kill -9. Every record of the store carries a
checksum; a damaged, truncated or emptied store is refused at start (the
file is left as it is), and so is a deleted or replaced one: FILE.mark,
kept beside it, records that it existed, its identity and the rows it held
at the last checkpoint. --state-recover then keeps every record that verifies, moves
the damaged file aside (FILE.damaged-<time>) and reports the rows kept and
lost per model and stage (for a deleted file: the rows its marker counted).
A model whose reference (artifact digest and profile) was lost gets the
registry's current version re-attached at start, as its next row would.

Bounds whatever clients send: a categorical value over 256 bytes is kept in
windows as a marker naming its length and SHA-256
(normguard_values_truncated_total); a model keeps at most --state-budget
bytes of window state on disk, beyond which its observations are refused
(429) and counted in normguard_observations_dropped_total; uploads are
streamed to disk and verified one at a time, at most --max-uploads received
at once; transform and observations bodies being read and answered share
--max-inflight-body bytes. A request over either answers 503 busy with
Retry-After, unread (normguard_busy_refusals_total). Besides the models'
current versions, at most --max-transformers prepared transformers of
--max-transformer-bytes artifact bytes together are kept in memory (the
least recently used is dropped). --auth-all requires the token on
/transform and /observations too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServe(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.registry, "registry", "", "registry folder (required; created if missing)")
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&o.state, "state", "", "monitoring store file (default DIR/monitor.db)")
	o.window = time.Hour
	f.Var(windowFlag{&o.window}, "window", "length of the tumbling monitoring windows: 1h, 30m, 1d, 7d (whole weeks start Mondays 00:00 UTC, others at multiples since the epoch)")
	f.DurationVar(&o.eval, "eval-interval", monitor.DefaultEvalInterval, "how often open windows are judged for drift (metrics and alerts)")
	f.StringVar(&o.webhook, "webhook", "", "URL to POST an alert to when a feature starts drifting")
	f.Int64Var(&o.maxBody, "max-body", server.DefaultMaxBodyBytes, "largest request body in bytes (artifact uploads excepted)")
	f.IntVar(&o.maxRows, "max-rows", server.DefaultMaxRows, "most rows in one request")
	f.Int64Var(&o.inflight, "max-inflight-body", 0, "bytes of transform and observations bodies read and answered at once; beyond it requests get 503 busy (default 4 x --max-body; memory at the peak is about 5 times it)")
	f.Int64Var(&o.maxArt, "max-artifact", server.DefaultMaxArtifactBytes, "largest artifact upload in bytes")
	f.IntVar(&o.uploads, "max-uploads", server.DefaultMaxUploads, "artifact uploads received at once; beyond it uploads get 503 busy")
	f.IntVar(&o.xforms, "max-transformers", server.DefaultMaxTransformers, "prepared transformers kept in memory besides the models' current versions' (least recently used dropped)")
	f.Int64Var(&o.xbytes, "max-transformer-bytes", server.DefaultMaxTransformerBytes, "artifact bytes of the prepared transformers kept in memory besides the models' current versions'")
	f.BoolVar(&o.noMon, "no-monitor", false, "turn monitoring off: feature and vector observations are refused (404), and no state is kept")
	f.BoolVar(&o.authAll, "auth-all", false, "require the token on /transform and /observations too, not only on uploads")
	f.Int64Var(&o.budget, "state-budget", monitor.DefaultMaxModelBytes, "bytes of window state one model may keep on disk; beyond it its observations are dropped (counted in normguard_observations_dropped_total)")
	f.BoolVar(&o.recover, "state-recover", false, "if the monitoring store is damaged, keep what verifies, move the damaged file aside and report what was lost")
	o.kafka.addFlags(f)
	f.StringSliceVar(&o.peers, "peers", nil, "base URLs of the other replicas (comma-separated): /drift answers for the merged window state of all, fetched with NORMGUARD_TOKEN")
	f.StringVar(&o.timeCol, "time-column", "", "window observations by the event time in this column of the rows (text or Unix seconds), not by arrival; late rows are counted (normguard_observations_late_total)")
	cmd.MarkFlagRequired("registry")
	return cmd
}

func runServe(cmd *cobra.Command, o serveOptions) error {
	if o.window <= 0 || o.eval <= 0 {
		return fmt.Errorf("--window and --eval-interval must be positive, got %v and %v", o.window, o.eval)
	}
	if o.maxBody <= 0 || o.maxRows <= 0 {
		return fmt.Errorf("--max-body and --max-rows must be positive, got %d and %d (defaults %d and %d)", o.maxBody, o.maxRows, server.DefaultMaxBodyBytes, server.DefaultMaxRows)
	}
	if o.inflight < 0 || o.maxArt <= 0 || o.uploads <= 0 {
		return fmt.Errorf("--max-inflight-body, --max-artifact and --max-uploads must be positive, got %d, %d and %d", o.inflight, o.maxArt, o.uploads)
	}
	if o.inflight > 0 && o.inflight < o.maxBody {
		return fmt.Errorf("--max-inflight-body %d is under --max-body %d: no request of the largest size could ever be read; raise it", o.inflight, o.maxBody)
	}
	if o.xforms <= 0 || o.xbytes <= 0 {
		return fmt.Errorf("--max-transformers and --max-transformer-bytes must be positive, got %d and %d", o.xforms, o.xbytes)
	}
	if o.budget <= 0 {
		return fmt.Errorf("--state-budget must be a positive number of bytes, got %d", o.budget)
	}
	// A token of spaces, or with spaces around it (a quoting slip in a
	// unit file), matches no Authorization header a client sends:
	// uploads were refused with no word of why (attack run 16).
	if tok := os.Getenv("NORMGUARD_TOKEN"); tok != strings.TrimSpace(tok) {
		return fmt.Errorf("NORMGUARD_TOKEN begins or ends with white space (%d bytes), which no client's Authorization header can match; set it without the spaces", len(tok))
	}
	if o.noMon {
		// A flag of monitoring beside --no-monitor was ignored without a
		// word: a --state given to keep observations kept nothing (attack
		// run 18).
		var set []string
		for _, name := range []string{"state", "state-recover", "state-budget", "webhook", "time-column", "eval-interval", "window"} {
			if cmd.Flags().Changed(name) {
				set = append(set, "--"+name)
			}
		}
		if len(set) > 0 {
			given := strings.Join(set, ", ")
			return fmt.Errorf("--no-monitor turns monitoring off (feature and vector observations are refused with 404, and no state is kept), "+
				"but %s given beside it set monitoring up: drop --no-monitor to monitor, or drop %s", given, given)
		}
	}
	store, err := registry.Open(o.registry)
	if err != nil {
		return err
	}
	// A push into the folder by another process shows within 100 ms,
	// and the transform path skips a stat per request.
	store.Revalidate = 100 * time.Millisecond
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	cfg := server.Config{
		Registry:             store,
		Token:                os.Getenv("NORMGUARD_TOKEN"),
		MaxBodyBytes:         o.maxBody,
		MaxRows:              o.maxRows,
		MaxInflightBodyBytes: o.inflight,
		MaxArtifactBytes:     o.maxArt,
		MaxUploads:           o.uploads,
		MaxTransformers:      o.xforms,
		MaxTransformerBytes:  o.xbytes,
		Logger:               log,
		AuthAll:              o.authAll,
		Peers:                o.peers,
		VectorWindow:         o.window,
		VectorsOff:           o.noMon,
	}
	if !o.noMon {
		state := o.state
		if state == "" {
			state = filepath.Join(o.registry, "monitor.db")
		}
		state = stateFile(state)
		mopt := monitor.Options{Window: o.window, EvalInterval: o.eval, MaxModelBytes: o.budget, Logger: log, TimeColumn: o.timeCol}
		if o.webhook != "" {
			mopt.Alert = &monitor.Alerter{URL: o.webhook}
		}
		// A model whose windows the store keeps without its reference (a
		// recovery lost its refs record) is judged against the
		// registry's version they were observed under.
		mopt.Reattach = func(model string) iter.Seq2[*artifact.Artifact, error] {
			return registryVersions(cmd.Context(), store, o.registry, model)
		}
		mon, err := monitor.Open(state, mopt)
		if errors.Is(err, monitor.ErrDamaged) && o.recover {
			rep, rerr := monitor.Recover(state, mopt)
			if rerr != nil {
				return rerr
			}
			fmt.Fprintln(cmd.ErrOrStderr(), rep)
			mon, err = monitor.Open(state, mopt)
		}
		if err != nil {
			return err
		}
		cfg.Monitor = mon
		cfg.VectorState, cfg.VectorStateRecover = state+".vectors.json", o.recover
	}
	kc, err := o.kafka.setup(&cfg, store, log)
	if err != nil {
		if cfg.Monitor != nil {
			cfg.Monitor.Close()
		}
		return err
	}
	srv, err := server.New(cfg)
	if err != nil {
		if cfg.Monitor != nil {
			cfg.Monitor.Close()
		}
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		if cfg.Monitor != nil {
			cfg.Monitor.Close()
		}
		return fmt.Errorf("listening on %s: %w", o.addr, err)
	}
	if cfg.Token == "" {
		log.Warn("NORMGUARD_TOKEN is not set: uploads are refused")
		if o.authAll {
			log.Warn("--auth-all without NORMGUARD_TOKEN: /transform and /observations are refused too")
		}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "normguard serving %s on http://%s\n", o.registry, ln.Addr())
	return serveWithKafka(cmd.Context(), srv, ln, kc, log)
}

// registryVersions yields the artifacts of model's versions in the
// registry store at dir (monitor.ReattachFunc): the current version
// first, then the others, newest first; a version that cannot be read
// yields its error.
func registryVersions(ctx context.Context, store registry.Store, dir, model string) iter.Seq2[*artifact.Artifact, error] {
	return func(yield func(*artifact.Artifact, error) bool) {
		get := func(version string) (*artifact.Artifact, error) {
			data, v, err := store.Get(ctx, model, version)
			if err != nil {
				return nil, fmt.Errorf("the registry %s: %w", dir, err)
			}
			return artifact.Decode(data, model+"@"+v.Version)
		}
		cur, err := store.Resolve(ctx, model, "")
		if err != nil {
			yield(nil, fmt.Errorf("the registry %s: %w", dir, err))
			return
		}
		if !yield(get(cur.Version)) {
			return
		}
		models, err := store.List(ctx)
		if err != nil {
			yield(nil, fmt.Errorf("the registry %s: %w", dir, err))
			return
		}
		for _, mod := range models {
			if mod.Name != model {
				continue
			}
			for i := len(mod.Versions) - 1; i >= 0; i-- {
				if v := mod.Versions[i].Version; v != cur.Version && !yield(get(v)) {
					return
				}
			}
		}
	}
}
