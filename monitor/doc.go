// Package monitor keeps windowed statistics of the features a model is fed,
// durably, and judges each window against the artifact's training profile.
//
// The HTTP service hands the monitor the rows it sees: the inputs of every
// transform request (ObserveAsync, on the hot path) and the rows posted to
// /observations (Observe, which returns once the rows are on disk). Per
// model, stage (StageInput: raw features against the artifact's input
// profile; StageOutput: transformed features against its output profile),
// feature and tumbling window the monitor keeps
//
//   - rows, missing values, numeric values outside the training [min, max]
//     of the profile, and categorical values never seen in training;
//   - the moments of numeric values (stats.Moments, exact and order-free);
//   - a drift.Summary against the profile of the model's latest artifact:
//     a size fixed by the profile whatever the traffic, merged exactly,
//     from which the drift engine judges the window with the numbers
//     `normguard drift --artifact` gives on the window's rows
//     (drift.CompareSummaries);
//   - a reservoir sample of the present values (Vitter's Algorithm R, 1985)
//     of Options.SampleSize values, drawn with a splitmix64 generator seeded
//     from (model, stage, window, feature), so that the sample depends only
//     on the rows and their order, kept only in windows written before
//     summaries (or of features the profile does not cover), which are
//     judged from it; the validation rules read the summary (anomaly.go).
//     When the artifact's profile changes mid-window, a feature's summary
//     starts again: the window is judged on the rows since.
//
// Windows are [start, start+Window) with start a multiple of Window since
// the Unix epoch (windows of whole weeks: since Monday 1970-01-05, so they
// are ISO weeks starting Mondays 00:00 UTC), of the rows' arrival time, or with Options.TimeColumn
// of the time each row carries (event.go). The drift engine judges a
// window every EvalInterval while it is open and once more when it closes
// (its final result goes to the history). A window with fewer than
// MinRows rows is not judged.
//
// # Replicas
//
// Export writes the windows in memory with their summaries, ExportHistory
// the closed windows of the history too (a closed window's summaries are
// kept with its history entry); MergeExports merges replicas' exports
// window by window (model, stage, start) into what one monitor fed every
// row would hold (counts added, summaries merged exactly), Export.Judge
// judges them and ExportWindow.Anomalies finds their data anomalies.
// `normguard monitor export` / `merge` and `serve --peers` use them.
// Replay judges a data set's rows by event time into a Timeline.
//
// # What counts
//
// Rates are shares of the window's rows: missing_rate = missing/rows,
// out_of_range_rate = out_of_range/rows, unseen_rate = unseen/rows. A
// feature of the profile absent from the observed columns counts its rows as
// missing; observed columns the profile does not know are ignored. A numeric
// value is out of range when it is below the profile's Min or above its Max
// (±Inf included; a feature whose profile has no range is never out of
// range). A categorical value is unseen when it is not among the fitted
// encoder's categories_ (input stage, when a one_hot_encoder or
// ordinal_encoder of the artifact encodes that column), else not among the
// profile's categories when the profile lists every category it saw
// (Other == 0); otherwise unseen values are not counted. Missing values are
// never unseen.
//
// A model's windows are judged against the artifact most recently observed
// for it (the server passes the artifact that served the request). When a
// new artifact version arrives mid-window, the window keeps its rows and
// each row's range and category checks were made against the artifact it
// came with.
//
// # Durability
//
// The monitor lives in one bbolt file with these buckets (log, ckpt and
// history hold one sub-bucket per model and stage):
//
//	log      window|first seq → a group of observation records (the write-ahead log)
//	ckpt     window → the state of a window (counts, moments, summaries, sample, generator state);
//	         "s" → the stage's last sequence number covered by the checkpoint
//	history  window → the JSON WindowSummary of a closed window
//	refs     model → what the monitor needs of the model's latest artifact (profiles, categories)
//
// One goroutine, the committer, owns every write. Observe and ObserveAsync
// encode the rows (the copy: the caller's columns may be reused at once)
// and queue the record; the committer takes the queue, numbers the records,
// writes them to the log in one transaction, commits it with fsync, and only
// then applies them to the in-memory windows by decoding the very bytes it
// wrote. Observe waits for that commit; concurrent Observe calls share one
// transaction (group commit). ObserveAsync never waits: its records are
// committed within FlushInterval, and when more than MaxPendingBytes are
// queued the batch is dropped and counted (normguard_observations_dropped_total).
//
// Every CheckpointInterval, and at Close, the committer writes the state of
// every changed window and deletes, in the same transaction, the log
// entries the checkpoint covers. Open loads the checkpoints and replays the
// log after them, in sequence order, with the same decoding: the recovered
// windows are exactly those that the committed records produced, whatever
// the process died of. Rows acknowledged by Observe are never lost;
// ObserveAsync rows queued but not yet committed at a crash are.
//
// When a window closes (a record of a later window arrives, or its end has
// passed), the evaluator judges it once more, and the committer writes its
// summary to the history (keeping the History newest per model and stage)
// and deletes its checkpoint and log entries in one transaction.
//
// # Alerts
//
// When a feature of a window is judged drifting for the first time in that
// window, the Alerter (if any) POSTs an Alert to its URL, asynchronously,
// retrying network errors and 5xx answers with a doubling backoff. Whether a
// window's features have been alerted is part of the checkpoint; an alert
// fired after the last checkpoint before a crash may be sent again after the
// restart (at least once).
//
// # Metrics
//
// Collector returns a prometheus.Collector that reads the open windows at
// scrape time (normguard_feature_drift_statistic, normguard_feature_drifting,
// normguard_feature_missing_rate, normguard_feature_out_of_range_rate,
// normguard_feature_unseen_category_rate, normguard_window_rows) and the
// counters normguard_observations_dropped_total, normguard_alerts_sent_total
// and normguard_alerts_failed_total.
package monitor
