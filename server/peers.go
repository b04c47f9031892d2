package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/monitor"
)

// Replicas that each observe part of a model's rows (behind a load
// balancer, or consumers of one Kafka group) answer /drift for all of
// them: with Config.Peers set, GET /v1/models/{name}/drift fetches every
// peer's window state (GET /v1/models/{name}/window-state, with the
// server's token), merges it with its own (monitor.MergeExports: exact,
// as if one replica had seen every row) and judges the latest window:
// drift and the validation anomalies (ExportWindow.Anomalies).
// A peer that cannot be reached, or that judged with another artifact,
// makes /drift fail (502) naming it: a merged answer is all or nothing.
// Replicas whose windows read the same Kafka records (a replica killed
// after storing a poll but before committing it to the group, whose
// partitions another replica took over) make /drift answer 409
// overlapping_offsets naming the partition, the offsets and the two
// replicas, rather than count those records twice.
//
// Every replica's rows count once in the merge:
//   - a peer listed twice, spelled alike or not (http://h:8080 and
//     http://H:8080/, http://h and http://h:80), makes New fail: the
//     peers are compared normalized (peerKey);
//   - a peer that is another name of this server (its own address, a
//     host alias: it answers with this replica's monitoring store and
//     process, monitor.Export's Store and Instance) is skipped, logged
//     once and named in /drift's replicas as "skipped". Skipping is the
//     safer choice over refusing: the identity is exact (a random id of
//     the state file and one of the process), this replica's windows are
//     merged once as its own, and one --peers list naming every replica
//     can be given to each of them; refusing would only make /drift fail
//     until the list is edited per replica;
//   - two peers answering for the same store (two names of one other
//     replica), or a peer holding a copy of this replica's state file
//     (the same store in another process), make /drift fail with 502
//     peer_duplicate naming both: merged, rows would count twice, and
//     which copy is right cannot be told.

// instanceID is a random id of this process, which window-state answers
// carry (monitor.Export.Instance) so that a server finds its own answer
// among its peers'.
var instanceID = sync.OnceValue(func() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("server: reading random bytes for the instance id: %v", err)) // crypto/rand does not fail
	}
	return hex.EncodeToString(b[:])
})

// peerKey returns a peer's base URL normalized, so that two spellings of
// one address compare equal: scheme and host in lower case, the port
// explicit (80 for http, 443 for https), the path without trailing
// slashes. It refuses what is not a replica's base URL.
func peerKey(p string) (string, error) {
	u, err := url.Parse(p)
	if err != nil {
		return "", err
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return "", errors.New("the scheme must be http or https")
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return "", errors.New("it names no host")
	case u.User != nil:
		return "", errors.New("replicas authenticate with NORMGUARD_TOKEN, not a user in the URL")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", errors.New("a base URL has no query or fragment")
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port) + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// checkPeers refuses a configuration whose peers could never be asked:
// without a token (the window-state route needs it, so every /drift would
// fail), without a monitor, with a peer that is not an http(s) URL, or
// with a peer listed twice (its rows would count twice).
func checkPeers(cfg Config) error {
	if len(cfg.Peers) == 0 {
		return nil
	}
	if cfg.Token == "" {
		return errors.New("server: --peers needs NORMGUARD_TOKEN: replicas fetch each other's window state with it; set the same NORMGUARD_TOKEN on every replica")
	}
	if cfg.Monitor == nil {
		return errors.New("server: --peers merges the replicas' monitoring windows, but monitoring is off (--no-monitor)")
	}
	seen := make(map[string]string, len(cfg.Peers))
	for _, p := range cfg.Peers {
		k, err := peerKey(p)
		if err != nil {
			return fmt.Errorf("server: --peers %q: want a replica's base URL such as http://host:8080 (%v)", p, err)
		}
		if q, ok := seen[k]; ok {
			return fmt.Errorf("server: --peers lists %q and %q, the same replica (%s): /drift would count its rows twice; list each replica once", q, p, k)
		}
		seen[k] = p
	}
	return nil
}

// selfLogged records the (server, peer) pairs already logged as this
// server itself, so that the line is written once, not on every /drift.
var selfLogged sync.Map

// peerTimeout bounds one peer's answer.
const peerTimeout = 10 * time.Second

// handleWindowState answers the monitor's exported window state of a
// model (monitor.Export: the windows in memory), for peers and `normguard
// monitor merge`; with ?history=1 the closed windows kept in the history
// too (monitor.ExportHistory).
func (s *Server) handleWindowState(w http.ResponseWriter, r *http.Request) {
	model, _, err := s.modelStage(r)
	if err != nil {
		fail(w, err)
		return
	}
	history, err := flag(r, "history")
	if err != nil {
		fail(w, err)
		return
	}
	export := s.cfg.Monitor.Export
	if history {
		export = s.cfg.Monitor.ExportHistory
	}
	ex, err := export(model)
	if err != nil {
		status, code := http.StatusInternalServerError, "internal"
		if errors.Is(err, monitor.ErrNotExportable) {
			status, code = http.StatusConflict, "not_exportable"
		}
		writeError(w, status, code, err.Error())
		return
	}
	ex.Store, ex.Instance = s.cfg.Monitor.StoreID(), instanceID()
	writeJSON(w, http.StatusOK, ex)
}

// handleDriftOrPeers serves /drift: the local window, or with peers the
// merged window of every replica.
func (s *Server) handleDriftOrPeers(w http.ResponseWriter, r *http.Request) {
	if len(s.cfg.Peers) == 0 {
		s.handleDrift(w, r)
		return
	}
	model, stage, err := s.modelStage(r)
	if err != nil {
		fail(w, err)
		return
	}
	plots, err := flag(r, "plots")
	if err != nil {
		fail(w, err)
		return
	}
	resp, err := s.mergedDrift(r.Context(), model, stage, plots)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// peerState is what /drift says of each replica merged.
type peerState struct {
	URL  string `json:"url"` // "" for this replica
	Rows int64  `json:"rows"`
	// Skipped says why a peer's windows were not merged: it is this
	// replica under another name (its rows are this replica's).
	Skipped string `json:"skipped,omitempty"`
}

// mergedDriftResponse is /drift's answer with peers: the drift JSON and
// the data anomalies of the merged latest window (both exactly those of
// one replica fed every row), with ?plots=1 its plots and the training
// rates as a replica's /drift gives them, and the replicas it merges.
type mergedDriftResponse struct {
	driftResponse
	Replicas []peerState `json:"replicas"`
}

func (s *Server) mergedDrift(ctx context.Context, model string, stage monitor.Stage, plots bool) (*mergedDriftResponse, error) {
	p, _, err := s.cache.get(ctx, model, "")
	if err != nil {
		return nil, err
	}
	a := p.t.Artifact()
	// One merged /drift at a time: each holds every peer's window state
	// (up to MaxPeerExportBytes a peer), and /drift needs no token, so
	// concurrent requests multiplied it (attack run 9: eight of them ran
	// serve out of memory). The others wait, within their deadline.
	release, err := s.mergeSlot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	local, err := s.cfg.Monitor.Export(model)
	if err != nil {
		return nil, &apiError{http.StatusConflict, "not_exportable", err.Error()}
	}
	exports := make([]*monitor.Export, 1+len(s.cfg.Peers))
	exports[0] = local
	errs := make([]error, len(s.cfg.Peers))
	var wg sync.WaitGroup
	for i, peer := range s.cfg.Peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			exports[i+1], errs[i] = s.fetchPeer(ctx, peer, model)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if errors.Is(err, monitor.ErrInvalidExport) {
			return nil, &apiError{http.StatusBadGateway, "peer_invalid_export", fmt.Sprintf("peer %s: %v", s.cfg.Peers[i], err)}
		}
		if err != nil {
			return nil, &apiError{http.StatusBadGateway, "peer_unavailable",
				fmt.Sprintf("peer %s: %v; /drift merges every replica's window, so it cannot answer without it (check --peers and that the peer runs with the same NORMGUARD_TOKEN)", s.cfg.Peers[i], err)}
		}
		exports[i+1].Name = "peer " + s.cfg.Peers[i]
		// A peer's export is checked whole against the artifact (the
		// fields' paths are its own), not only the windows merged below.
		if err := exports[i+1].Check(a); err != nil {
			return nil, &apiError{http.StatusBadGateway, "peer_invalid_export", err.Error()}
		}
		// It was asked for this model's windows only, and holds none that
		// starts ahead of this replica's clock by more than a window and
		// an hour (as serve's rows do): a window of 2199 took over the
		// merge, and the real open window was never judged (attack run 9).
		ahead := s.cfg.Monitor.Ahead()
		for j, w := range exports[i+1].Windows {
			if w.Start.After(ahead) {
				err := &monitor.ExportError{Name: exports[i+1].Name, Path: fmt.Sprintf("windows[%d].start", j),
					Msg: fmt.Sprintf("%s is ahead of this replica's clock by more than a window and an hour (%s): check the peer's clock", w.Start.Format(time.RFC3339), ahead.Format(time.RFC3339))}
				return nil, &apiError{http.StatusBadGateway, "peer_invalid_export", err.Error()}
			}
			if w.Model != model {
				err := &monitor.ExportError{Name: exports[i+1].Name, Path: fmt.Sprintf("windows[%d].model", j),
					Msg: fmt.Sprintf("%q, but the peer was asked for the windows of model %q", w.Model, model)}
				return nil, &apiError{http.StatusBadGateway, "peer_invalid_export", err.Error()}
			}
		}
	}
	local.Name = "this replica"
	local.Store, local.Instance = s.cfg.Monitor.StoreID(), instanceID()
	// A peer answering with this replica's store and process is this
	// server under another name: skipped (see the top of the file).
	urls := []string{""}
	skipped := []peerState{}
	kept := []*monitor.Export{exports[0]}
	for i, ex := range exports[1:] {
		peer := s.cfg.Peers[i]
		if local.Store != "" && ex.Store == local.Store && ex.Instance == local.Instance {
			if _, logged := selfLogged.LoadOrStore(fmt.Sprintf("%p\x00%s", s, peer), true); !logged {
				s.log.Warn("--peers lists this server itself: its window state is merged once, as this replica's; remove it from --peers to silence this",
					"peer", peer, "store", local.Store)
			}
			skipped = append(skipped, peerState{URL: peer, Skipped: "this replica (the same monitoring store and process): its rows are counted once, as this replica's"})
			continue
		}
		kept = append(kept, ex)
		urls = append(urls, peer)
	}
	exports = kept
	// Two names of one replica, or a copy of a replica's state file.
	if err := monitor.CheckDuplicates(exports); err != nil {
		return nil, &apiError{http.StatusBadGateway, "peer_duplicate", err.Error() + " (check --peers: list each replica once)"}
	}
	// Every window each replica holds, not only the latest: a record read
	// twice may sit in an earlier window of one and the latest of another.
	if err := monitor.CheckOverlaps(exports); err != nil {
		return nil, &apiError{http.StatusConflict, "overlapping_offsets", err.Error()}
	}
	// The latest window of the stage across the replicas.
	var latest time.Time
	found := false
	for _, ex := range exports {
		for _, w := range ex.Windows {
			if w.Stage == stage && (!found || w.Start.After(latest)) {
				latest, found = w.Start, true
			}
		}
	}
	if !found {
		return nil, notFound("no %s observations of model %q in any replica's open window yet", stage, model)
	}
	resp := &mergedDriftResponse{driftResponse: driftResponse{Model: model, Stage: string(stage)}}
	only := make([]*monitor.Export, len(exports))
	for i, ex := range exports {
		o := &monitor.Export{Format: ex.Format, Bins: ex.Bins, Name: ex.Name, Store: ex.Store, Instance: ex.Instance}
		ps := peerState{URL: urls[i]}
		for _, w := range ex.Windows {
			if w.Stage == stage && w.Start.Equal(latest) {
				o.Windows = append(o.Windows, w)
				ps.Rows += w.Rows
			}
		}
		only[i] = o
		resp.Replicas = append(resp.Replicas, ps)
	}
	resp.Replicas = append(resp.Replicas, skipped...)
	merged, err := monitor.MergeExports(a, only)
	if err != nil {
		status, code := http.StatusConflict, "replicas_disagree"
		switch {
		case errors.Is(err, monitor.ErrOverlap):
			code = "overlapping_offsets"
		case errors.Is(err, monitor.ErrDuplicateExport):
			status, code = http.StatusBadGateway, "peer_duplicate"
		case errors.Is(err, monitor.ErrInvalidExport):
			status, code = http.StatusBadGateway, "peer_invalid_export"
		}
		return nil, &apiError{status, code, err.Error()}
	}
	tl, err := merged.Judge(a, s.cfg.Monitor.DriftOptions())
	if err != nil {
		return nil, err
	}
	if len(tl.Windows) != 1 {
		return nil, fmt.Errorf("server: merging replicas gave %d windows, want 1", len(tl.Windows))
	}
	mw := tl.Windows[0]
	if resp.Anomalies, err = merged.Windows[0].Anomalies(a, merged.Bins); err != nil {
		return nil, err
	}
	resp.Report = mw.Report
	resp.Window = monitor.Window{Start: mw.Start, End: mw.End, Rows: mw.Rows, Unprofiled: merged.Windows[0].Unprofiled}
	if resp.Window.Restarted, err = merged.Windows[0].RestartedFeatures(a, merged.Bins); err != nil {
		return nil, err
	}
	resp.Note = unprofiledNote(resp.Window)
	resp.Training = trainingOf(a, stage)
	resp.VectorColumns = vectorNotes(a, model)
	if plots {
		resp.Plots = map[string]plotJSON{}
		for _, f := range mw.Report.Features {
			if p := f.Plot; p != nil {
				resp.Plots[f.Name] = plotJSON{Edges: p.Edges, Labels: p.Labels, Ref: finite(p.Ref), Cur: finite(p.Cur)}
			}
		}
	}
	return resp, nil
}

// trainingOf returns each feature's missing rate in the training data of
// artifact a (the profile of the stage), as /drift's "training".
func trainingOf(a *artifact.Artifact, stage monitor.Stage) map[string]trainingRates {
	if a.Profile == nil {
		return nil
	}
	feats := a.Profile.Inputs
	if stage == monitor.StageOutput {
		feats = a.Profile.Outputs
	}
	out := map[string]trainingRates{}
	for _, f := range feats {
		if n := f.Count + f.Missing; n > 0 {
			out[f.Name] = trainingRates{MissingRate: float64(f.Missing) / float64(n)}
		}
	}
	return out
}

// mergeSlot waits for the one merge slot (Server.merging), or for ctx.
func (s *Server) mergeSlot(ctx context.Context) (release func(), err error) {
	select {
	case s.merging <- struct{}{}:
		return func() { <-s.merging }, nil
	case <-ctx.Done():
		return nil, &apiError{http.StatusServiceUnavailable, "busy", "another /drift is merging the replicas' windows; try again"}
	}
}

// fetchPeer asks a peer for its window state of model.
func (s *Server) fetchPeer(ctx context.Context, peer, model string) (*monitor.Export, error) {
	ctx, cancel := context.WithTimeout(ctx, peerTimeout)
	defer cancel()
	u := strings.TrimRight(peer, "/") + "/v1/models/" + url.PathEscape(model) + "/window-state"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
	// Asked uncompressed: Go's client otherwise asks for gzip and inflates
	// it unseen, so a 1 MB answer became hundreds of MB (attack run 9).
	req.Header.Set("Accept-Encoding", "identity")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return nil, fmt.Errorf("GET %s: %s: %s", u, res.Status, errtext.Quote(strings.TrimSpace(string(b))))
	}
	if ce := res.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil, fmt.Errorf("GET %s: the answer is %s-encoded, where it was asked uncompressed: %w", u, errtext.Shorten(ce), monitor.ErrInvalidExport)
	}
	tooLarge := fmt.Errorf("GET %s: the window state is larger than %d bytes (MaxPeerExportBytes): %w", u, maxPeerExport, monitor.ErrInvalidExport)
	if res.ContentLength > maxPeerExport {
		return nil, tooLarge
	}
	body := &io.LimitedReader{R: res.Body, N: maxPeerExport + 1}
	ex, err := monitor.ReadExport(body, u)
	if body.N <= 0 { // read past the bound, whatever the decoder made of it
		return nil, tooLarge
	}
	return ex, err
}

// MaxPeerExportBytes bounds a peer's window state of one model: the
// windows it holds in memory, a few KB a feature each (a model of 1,000
// features, two stages, three windows: about 12 MB).
const MaxPeerExportBytes = 64 << 20

// maxPeerExport is MaxPeerExportBytes (a variable for tests: 64 MB of
// answer took past the peer timeout under the race detector).
var maxPeerExport int64 = MaxPeerExportBytes
