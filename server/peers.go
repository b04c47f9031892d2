package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/normguard/normguard/artifact"
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

// checkPeers refuses a configuration whose peers could never be asked:
// without a token (the window-state route needs it, so every /drift would
// fail), without a monitor, or with a peer that is not an http(s) URL.
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
	for _, p := range cfg.Peers {
		u, err := url.Parse(p)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("server: --peers %q: want a replica's base URL such as http://host:8080", p)
		}
	}
	return nil
}

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
	export := s.cfg.Monitor.Export
	if r.URL.Query().Get("history") == "1" {
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
	resp, err := s.mergedDrift(r.Context(), model, stage, r.URL.Query().Get("plots") == "1")
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
	}
	local.Name = "this replica"
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
		o := &monitor.Export{Format: ex.Format, Bins: ex.Bins, Name: ex.Name}
		ps := peerState{}
		if i > 0 {
			ps.URL = s.cfg.Peers[i-1]
		}
		for _, w := range ex.Windows {
			if w.Stage == stage && w.Start.Equal(latest) {
				o.Windows = append(o.Windows, w)
				ps.Rows += w.Rows
			}
		}
		only[i] = o
		resp.Replicas = append(resp.Replicas, ps)
	}
	merged, err := monitor.MergeExports(a, only)
	if err != nil {
		status, code := http.StatusConflict, "replicas_disagree"
		switch {
		case errors.Is(err, monitor.ErrOverlap):
			code = "overlapping_offsets"
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
	resp.Window = monitor.Window{Start: mw.Start, End: mw.End, Rows: mw.Rows}
	resp.Training = trainingOf(a, stage)
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
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return nil, fmt.Errorf("GET %s: %s: %s", u, res.Status, strings.TrimSpace(string(b)))
	}
	return monitor.ReadExport(io.LimitReader(res.Body, s.cfg.MaxArtifactBytes), u)
}
