// Package kafka feeds the monitor from a Kafka topic: each record's value
// is one JSON row ({"column": value, ...}) of a model's input (or output)
// features, read as the service reads POST /observations rows.
//
// # Counting each record once
//
// A Consumer polls a batch of records, decodes them and hands every row of
// the batch, together with the next offset of each partition it read, to
// monitor.ObserveAt: one bbolt transaction makes the rows and the offsets
// durable together. Only then does it commit the offsets to the consumer
// group. When partitions are assigned (start, restart, rebalance), it
// resumes each partition from the larger of the offset the state file
// holds and the group's committed offset:
//
//   - after a crash between the state commit and the group commit, the
//     state is ahead and its offset wins: the batch is not read again;
//   - after a partition was consumed by another replica of the group and
//     came back, the group is ahead: the rows of the other replica are
//     in that replica's windows and are not read again here;
//   - unless the group's offset was committed by this very state file (its
//     commits name it): the state is an older copy of itself, restored
//     from a backup, and reads them again (committer.go).
//
// Polls block rebalances (kgo.BlockRebalanceOnPoll) until the batch is
// durable and committed, so a graceful rebalance or shutdown never hands
// a partition over mid-batch. What remains: a replica killed between its
// state commit and its group commit whose partitions another replica takes
// before it comes back has that last batch read again by the other
// replica; both windows then count it. Asking the dead replica where it
// got to is no help, since it is down when the partition moves. Instead
// every window keeps the offset ranges its rows were read from
// (monitor.OffsetRange, stored with the rows), and merging the replicas'
// windows (serve --peers, normguard monitor merge) refuses exports that
// read the same offsets, naming the partition, the offsets and the two
// replicas, rather than count them twice. A static member id
// (Config.InstanceID) keeps the partitions of a replica restarted within
// the session timeout with that replica, which makes this rarer.
//
// # Event time
//
// With Config.EventTime (serve --time-column) the monitor windows rows by
// the time they carry; a row without that column takes its record's Kafka
// timestamp. Each partition is read in order, but a batch holds several
// partitions one after another: a row of a window that rows of another
// partition have already moved past arrives late, and the monitor counts
// it (normguard_observations_late_total) in the latest window. Keys that
// keep one stream's rows in one partition, or one partition, keep rows in
// their windows.
//
// # Bad records
//
// A record that is not a JSON object, holds a value of the wrong type for
// a feature, names no feature of the model, or names a model the registry
// does not have is counted (normguard_kafka_bad_records_total{reason})
// and skipped: its offset moves on with the rest of the batch, so a bad
// record never stalls its partition.
package kafka
