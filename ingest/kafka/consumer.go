package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/registry"
	"github.com/normguard/normguard/transform"
)

// ModelHeader is the record header naming the model of a record's row
// when Config.Model is empty.
const ModelHeader = "model"

// DefaultMaxPollRecords is the most records read and committed as one
// batch.
const DefaultMaxPollRecords = 10000

// Config configures a Consumer. Brokers, Topic, Group, Registry and
// Monitor are required.
type Config struct {
	// Brokers are the seed brokers, host:port.
	Brokers []string
	// Topic is the topic to consume.
	Topic string
	// Group is the consumer group; replicas in one group share the
	// topic's partitions.
	Group string
	// NewGroup lets Group be a group the monitor's state never read Topic
	// with although it read it with another (New refuses that otherwise:
	// the new group would count again the records the state counted).
	// Only for a topic deleted and created again, whose records are all
	// new to the state's windows: when the state kept the topic's ID as
	// another group read it and the brokers give that ID still, New
	// refuses it as without NewGroup (the topic was not recreated).
	NewGroup bool
	// InstanceID, when set, makes the consumer a static group member:
	// restarted within the session timeout it gets its partitions back
	// without a rebalance.
	InstanceID string
	// Model names the model of every record; "" reads each record's
	// "model" header.
	Model string
	// EventTime names the column of a row's event time when the monitor
	// windows rows by event time (monitor.Options.TimeColumn). A row
	// without it takes the record's timestamp (see rows.withEventTime).
	EventTime string
	// Stage is the stage the rows are observed at ("": input).
	Stage monitor.Stage
	// FromEnd starts a partition the group has never committed at its end
	// instead of its start.
	FromEnd bool
	// SessionTimeout is how long the group waits for a silent member
	// before handing its partitions to the others (0: franz-go's 45 s).
	SessionTimeout time.Duration
	// MaxPollRecords bounds a batch (0: DefaultMaxPollRecords).
	MaxPollRecords int
	// ProgressCheck is how often partitions whose log goes on past the
	// consumer's position are checked for having moved (0:
	// DefaultCheckInterval).
	ProgressCheck time.Duration
	// MaxRecordBytes bounds a record's value, as --max-body bounds a
	// request's (0: DefaultMaxRecordBytes): a larger record is skipped
	// and counted bad (too_large) before it is decoded.
	MaxRecordBytes int64
	// Registry resolves model names to their current artifact.
	Registry registry.Store
	// Monitor keeps the windows and the offsets.
	Monitor *monitor.Monitor
	// Logger receives bad records (rate-limited) and broker errors (nil:
	// discard).
	Logger *slog.Logger
	// Opts are further franz-go options (tests: session timeouts).
	Opts []kgo.Opt
}

// Validate reports the first missing or impossible field.
func (c Config) Validate() error {
	switch {
	case len(c.Brokers) == 0 || slices.Contains(c.Brokers, ""):
		return errors.New("kafka: no brokers given: list them as host:port,host:port")
	case c.Topic == "":
		return errors.New("kafka: no topic given")
	case c.Group == "":
		return errors.New("kafka: no consumer group given: replicas sharing a topic need one")
	case c.Registry == nil || c.Monitor == nil:
		return errors.New("kafka: a registry and a monitor are required")
	case c.Stage != "" && c.Stage != monitor.StageInput && c.Stage != monitor.StageOutput:
		return fmt.Errorf("kafka: stage %q: use %q or %q", c.Stage, monitor.StageInput, monitor.StageOutput)
	case c.MaxPollRecords < 0 || c.SessionTimeout < 0:
		return fmt.Errorf("kafka: MaxPollRecords %d or SessionTimeout %v is negative", c.MaxPollRecords, c.SessionTimeout)
	}
	if c.Model != "" {
		if err := registry.ValidName(c.Model); err != nil {
			return fmt.Errorf("kafka: model: %w", err)
		}
	}
	return nil
}

// Source returns the name under which the monitor keeps the offsets of
// topic as consumed by group.
func Source(group, topic string) string { return "kafka:" + group + "/" + topic }

// Consumer feeds the monitor from a topic. Run it once.
type Consumer struct {
	cfg    Config
	log    *slog.Logger
	source string
	cl     *kgo.Client
	// side reads batch headers (unreadable.go) beside cl's fetches.
	side *kgo.Client
	// clSet is closed once cl is set: the client calls resume from its
	// own goroutines, which may start before kgo.NewClient returns.
	clSet chan struct{}

	models map[string]found  // by name, the current batch's lookups
	loaded map[string]*model // by name, the artifact last loaded

	records atomic.Int64
	rows    atomic.Int64
	badMu   sync.Mutex
	bad     map[string]int64
	lastLog atomic.Int64
	lastErr atomic.Pointer[BrokerError]
	brokers brokers
	fatal   atomic.Pointer[error] // the state's offsets could not be read
	// fenced says, since when, that another member of the group joined
	// with this consumer's InstanceID (FENCED_INSTANCE_ID): this one reads
	// nothing until it joins again (fenced.go).
	fenced atomic.Pointer[fencedAt]
	// refused says, since when, that the broker refuses the consumer's
	// group join for good (joinrefused.go).
	refused atomic.Pointer[joinRefusal]
	// noModel says, since when, that the registry holds no Config.Model
	// (models.go); unknownLogged holds the header model names found
	// unknown and logged (under badMu).
	noModel       atomic.Pointer[noModel]
	unknownLogged map[string]bool
	// refusing holds, by model, the monitor's refusals of its rows since
	// the last batch of it stored (under badMu; refused.go).
	refusing map[string]*refusal
	// modelErrs holds, by model, the failures to load its artifact since
	// it last loaded (under badMu; refused.go).
	modelErrs map[string]*refusal

	partsMu  sync.Mutex
	assigned map[int32]bool
	// stalled holds the assigned partitions stopped at a batch the client
	// cannot read and the consumer could not move past, with why.
	stalled map[int32]string
	// pos is each assigned partition's next offset as far as the
	// consumer knows (resumed, read or skipped to), to find gaps.
	pos map[int32]int64
	// startsToCommit holds the positions looked up for partitions neither
	// the state nor the group held one for, with --kafka-start latest, to
	// commit to the group (startcommit.go).
	startsToCommit map[int32]int64
	// firstParts is how many partitions the topic had at the consumer's
	// first assignment (-1: not known yet, 0: not found); a partition
	// past them appeared while serve ran (newparts.go).
	firstParts int32
	// pastBig is, per partition, a position whose batch is too large for
	// the client and the first offset past it found (stall.go).
	pastBig map[int32][2]int64
	// failedAt is the position of each partition whose batch the client
	// last failed to read, to skip a batch failing twice in a row.
	failedAt map[int32]int64
	// checkedAt is each partition's position at the last progress check
	// (checkProgress).
	checkedAt map[int32]int64
	// unchecked holds, per partition, the gaps countGaps has yet to check.
	unchecked map[int32]*unchecked
	// resets holds the partitions whose client was reset below the
	// consumer's position (readAgain), with what happened, until they read
	// on from there or the log is found to hold the position.
	resets map[int32]string
	// waiting holds the partitions found stopped behind an open
	// transaction (checkProgress).
	waiting map[int32]openTxn
	// behind holds the partitions whose log ended below the state's
	// position at assignment while the topic's ID could not verify it
	// (checkBelowEnd).
	behind map[int32]string
	// truncated holds the partitions whose log was found ending below the
	// consumer's position with the topic's ID unchanged: the broker lost
	// records counted before (truncated.go).
	truncated map[int32]notice
	// storeID is the identity of the monitor's state file, named by the
	// metadata of the consumer's offset commits; commitMeta holds the
	// metadata of the group's offsets as last fetched, by partition; skipped
	// the partitions resumed at a group's offset whose commit does not say
	// who counted the offsets passed over (committer.go).
	storeID    string
	commitMeta map[int32]string
	skipped    map[int32]notice
	// custody is, by assigned partition, the custody its commits carry;
	// skips the offsets another state counted, passed over while reading
	// up to the group's offset; floor the group's offset a partition
	// reading again below it commits until past it (custody.go).
	custody map[int32][]custodyEntry
	skips   map[int32][]offRange
	// owed is, by assigned partition, another state's offsets the group's
	// commit said it was reading again below the group's offset, kept in
	// this replica's commits (committer.go noteOwed).
	owed  map[int32]*owing
	floor map[int32]int64
	// topicID is the ID of the topic the positions were read from (zero:
	// not known); recreated says, since recreatedAt, that the topic was
	// found recreated; missing that it does not exist (topic.go).
	topicID     topicID
	recreated   string
	recreatedAt time.Time
	missing     string
	// adopted: the state kept no topic ID and the current one was
	// adopted (resumeID); the first assignment after checks the state's
	// positions against the group's (checkUncommitted).
	adopted bool
	// noTopicID holds the assigned partitions whose fetches the client
	// fails with UNKNOWN_TOPIC_ID (it holds a recreated topic's old ID),
	// since when and when last (Stats.Stuck); readdAt is when the topic
	// was last purged from the client and added back.
	noTopicID map[int32]idFail
	readdAt   time.Time

	// topicSuspect: a lookup found the topic unknown (checkProgress).
	topicSuspect atomic.Bool
	// clientNewID: the group client logged that the topic has a new ID it
	// does not adopt (clientLogger).
	clientNewID atomic.Bool

	fetchErrMu sync.Mutex
	fetchErrs  map[string]*fetchErrLog

	dec *decompressor

	// afterStore, when set (tests), is called once a batch is stored and
	// before its offsets are committed to the group; an error stops Run
	// there, as a replica killed at that point would.
	afterStore func(stored []monitor.Batch) error

	metricRecords prometheus.Counter
	metricRows    prometheus.Counter
	metricBad     *prometheus.CounterVec
	metricUp      prometheus.GaugeFunc
	metricLost    prometheus.Counter
}

// model is what the consumer keeps of a model's artifact.
type model struct {
	name string
	art  *artifact.Artifact
	rows *rows
}

// New returns a consumer for cfg; it connects when Run starts.
func New(cfg Config) (*Consumer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkGroup(cfg); err != nil {
		var other *otherGroupError
		if !cfg.FromEnd || !errors.As(err, &other) {
			return nil, err
		}
		if err := checkNewGroupAtEnd(cfg, err); err != nil {
			return nil, err
		}
		if cfg.Logger != nil {
			cfg.Logger.Info("kafka: the state read the topic under another group; this group holds no committed offsets for it and starts where it ends (--kafka-start latest), so none of the records the state counted is read again", "topic", cfg.Topic, "group", cfg.Group)
		}
	}
	if cfg.Stage == "" {
		cfg.Stage = monitor.StageInput
	}
	if cfg.MaxPollRecords == 0 {
		cfg.MaxPollRecords = DefaultMaxPollRecords
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Consumer{
		cfg: cfg, log: log, source: Source(cfg.Group, cfg.Topic), clSet: make(chan struct{}),
		loaded: map[string]*model{}, bad: map[string]int64{}, assigned: map[int32]bool{}, stalled: map[int32]string{},
		pos: map[int32]int64{}, failedAt: map[int32]int64{}, checkedAt: map[int32]int64{}, unchecked: map[int32]*unchecked{},
		resets: map[int32]string{}, waiting: map[int32]openTxn{}, behind: map[int32]string{}, fetchErrs: map[string]*fetchErrLog{},
		noTopicID: map[int32]idFail{}, unknownLogged: map[string]bool{}, pastBig: map[int32][2]int64{}, firstParts: -1,
		truncated: map[int32]notice{}, skipped: map[int32]notice{}, storeID: cfg.Monitor.StoreID(),
		custody: map[int32][]custodyEntry{}, skips: map[int32][]offRange{}, owed: map[int32]*owing{}, floor: map[int32]int64{},
		metricRecords: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "normguard_kafka_records_total", Help: "Kafka records consumed (good and bad), each counted once.",
			ConstLabels: prometheus.Labels{"topic": cfg.Topic},
		}),
		metricRows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "normguard_kafka_rows_observed_total", Help: "Rows from Kafka made durable in the monitor's windows.",
			ConstLabels: prometheus.Labels{"topic": cfg.Topic},
		}),
		metricBad: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "normguard_kafka_bad_records_total", Help: "Kafka records skipped, by reason.",
			ConstLabels: prometheus.Labels{"topic": cfg.Topic},
		}, []string{"reason"}),
		metricLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "normguard_kafka_lost_offsets_total", Help: "Offsets of records counted before the broker lost them (a partition's log found ending below the consumer's position, the topic's ID unchanged); records written there again are read.",
			ConstLabels: prometheus.Labels{"topic": cfg.Topic},
		}),
	}
	start := kgo.NewOffset().AtStart()
	if cfg.FromEnd {
		start = kgo.NewOffset().AtEnd()
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topic),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(start),
		// Rows of a producer's aborted transactions are never counted.
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.OnOffsetsFetched(c.offsetsFetched),
		kgo.AdjustFetchOffsetsFn(c.resume),
		kgo.OnPartitionsAssigned(c.joined),
		kgo.OnPartitionsRevoked(c.unassign),
		kgo.OnPartitionsLost(c.unassign),
		// Partitions added to the topic are found (and assigned) at the
		// client's next metadata refresh: 5 minutes by default (attack
		// run 23 F5).
		kgo.MetadataMaxAge(MetadataMaxAge),
	}
	// A record is bounded before it is decoded (MaxRecordBytes), a batch
	// before it is inflated, by the largest record and some room.
	c.dec = newDecompressor(int(min(c.maxRecordBytes()+batchSlack, math.MaxInt32)))
	opts = append(opts, kgo.WithLogger(clientLogger{c: c, group: true}), kgo.WithHooks(&c.brokers), kgo.WithDecompressor(c.dec))
	c.metricUp = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "normguard_kafka_brokers_up", Help: "1 when the Kafka brokers were reached and the last connection attempt to each worked, 0 when one failed or none was reached yet.",
		ConstLabels: prometheus.Labels{"topic": cfg.Topic},
	}, c.brokers.up)
	if cfg.SessionTimeout > 0 {
		// Heartbeats well within the timeout, so that a busy poll or a slow
		// broker does not make a live member look dead.
		opts = append(opts, kgo.SessionTimeout(cfg.SessionTimeout), kgo.HeartbeatInterval(cfg.SessionTimeout/10))
	}
	if cfg.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(cfg.InstanceID))
	}
	cl, err := kgo.NewClient(append(opts, cfg.Opts...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	// The consumer's own fetches (unreadable.go) go through a client of
	// their own: a broker answers a connection's requests in order, and on
	// the group client's they waited behind its fetch of new records, up
	// to its wait of 5 s each.
	side, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(cfg.Brokers...), kgo.WithLogger(clientLogger{c: c})}, cfg.Opts...)...)
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("kafka: %w", err)
	}
	c.cl, c.side = cl, side
	close(c.clSet)
	return c, nil
}

// clientLogger passes the client's warnings and errors (an unreachable
// broker, a failed group join) to the consumer's logger and to
// Stats.LastError.
// The group client's warning that metadata holds a new ID for the topic
// (it does not adopt it: attack run 19 F1) makes Run re-add the topic.
type clientLogger struct {
	c     *Consumer
	group bool // the group client's (not the side client's)
}

// Level implements kgo.Logger.
func (l clientLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

// Log implements kgo.Logger.
func (l clientLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	lvl := slog.LevelWarn
	if level == kgo.LogLevelError {
		lvl = slog.LevelError
	}
	if level > kgo.LogLevelWarn {
		return
	}
	if l.group && strings.Contains(msg, "new ID for a topic") {
		l.c.clientNewID.Store(true)
	}
	if l.group {
		for i := 0; i+1 < len(keyvals); i += 2 {
			if err, ok := keyvals[i+1].(error); ok && keyvals[i] == "err" {
				l.c.noteFenced(err)
				l.c.noteJoinRefused(err)
			}
		}
	}
	if n, ok := l.c.clientLogDue(msg, keyvals); ok {
		if n > 1 {
			keyvals = append(keyvals[:len(keyvals):len(keyvals)], "count", n,
				"note", fmt.Sprintf("logged at most once per %v per message and broker; count is how many since the last line", fetchErrorLogEvery))
		}
		l.c.log.Log(context.Background(), lvl, "kafka: "+msg, keyvals...)
	}
	text := msg
	for i := 0; i+1 < len(keyvals); i += 2 {
		if k, _ := keyvals[i].(string); k == "err" {
			text += ": " + fmt.Sprint(keyvals[i+1])
		}
	}
	l.c.lastErr.Store(&BrokerError{Error: text, At: time.Now().UTC()})
}

// clientLogDue says whether the client's message msg is to be logged:
// at most once per fetchErrorLogEvery for a message and the broker,
// group, topic and partition it names (an unreachable broker made ~105
// lines a minute, attack run 19 F7), with how many came since the last
// line.
func (c *Consumer) clientLogDue(msg string, keyvals []any) (int64, bool) {
	key := "client\x00" + msg
	for i := 0; i+1 < len(keyvals); i += 2 {
		switch k, _ := keyvals[i].(string); k {
		case "broker", "addr", "group", "topic", "partition":
			key += fmt.Sprintf("\x00%s=%v", k, keyvals[i+1])
		}
	}
	now := time.Now()
	c.fetchErrMu.Lock()
	defer c.fetchErrMu.Unlock()
	l := c.fetchErrs[key]
	if l == nil {
		l = &fetchErrLog{}
		c.fetchErrs[key] = l
	}
	l.count++
	if !l.at.IsZero() && now.Sub(l.at) < fetchErrorLogEvery {
		return 0, false
	}
	n := l.count
	l.at, l.count = now, 0
	return n, true
}

// resume sets where each assigned partition starts: the larger of the
// offset the state holds and the group's committed one (see the package
// documentation).
func (c *Consumer) resume(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	held, err := c.cfg.Monitor.Offsets(c.source)
	if err != nil {
		// Resuming from a guess could count records twice or lose them.
		c.fatal.CompareAndSwap(nil, &err)
		return nil, err
	}
	if _, ok := offsets[c.cfg.Topic]; !ok {
		return offsets, nil
	}
	// The positions held are the topic's as it was when they were read:
	// recreated since, it starts from 0 (attack run 17 F3).
	valid, verified, err := c.resumeID(ctx)
	if err != nil {
		c.fatal.CompareAndSwap(nil, &err)
		return nil, err
	}
	stateHeld := held
	if !valid {
		held = map[int32]int64{}
	}
	for topic, parts := range offsets {
		if topic != c.cfg.Topic {
			continue
		}
		c.partsMu.Lock()
		for p := range parts {
			c.assigned[p] = true
		}
		c.partsMu.Unlock()
		var unknown []int32
		check := map[int32]int64{}       // positions the topic's ID did not verify
		ends := map[int32]int64{}        // those it did, to compare with the log's end
		reach := map[int32]int64{}       // of those, the group's offset where further on
		uncommitted := map[int32]int64{} // of those, the group holds no offset for
		skipped := map[int32]int64{}     // of those, resumed past others' offsets (at)
		c.partsMu.Lock()
		adopted := c.adopted
		c.adopted = false
		c.partsMu.Unlock()
		commitEpoch := map[int32]int32{} // the leader epoch of the group's commits
		for p, o := range parts {
			commitEpoch[p] = o.EpochOffset().Epoch
		}
		for p, o := range parts {
			next, ok := held[p]
			if !ok && valid {
				// A state restored from a backup taken before it held the
				// partition: the custody may name offsets it counted since
				// (attack run 34 F6), read again as with a position.
				next, ok = c.custodyStart(p, o.EpochOffset().Offset)
			}
			if !ok {
				if at := o.EpochOffset().Offset; at < 0 {
					unknown = append(unknown, p)
				} else {
					c.setPos(p, at)
					c.setCustody(p, at)
				}
				continue
			}
			at := next // the position held: its log end and last record are checked
			if group := o.EpochOffset().Offset; group >= 0 && group > next {
				next = c.groupAhead(p, next, group)
				if next < group {
					reach[p] = group
				}
				c.partsMu.Lock()
				byOthers := next > at && skipFrom(at, c.skips[p]) == next
				c.partsMu.Unlock()
				if byOthers {
					// Resumed past offsets another replica counted: a log
					// ending or rewritten below the group's offset may have
					// lost them too (attack run 34 F5), checked from the
					// position held.
					reach[p] = group
					skipped[p] = next
				}
				c.noteOwed(p, group)
			} else {
				if group >= 0 {
					c.noteOwed(p, group)
				}
				at := group
				if at < 0 {
					at = next
				}
				c.setCustody(p, at)
			}
			parts[p] = kgo.NewOffset().At(next).WithEpoch(-1)
			c.setPos(p, next)
			if !verified {
				check[p] = next
				if adopted && o.EpochOffset().Offset < 0 {
					uncommitted[p] = next
				}
			} else {
				ends[p] = at
			}
			c.log.Debug("kafka: partition resumed", "topic", topic, "partition", p, "offset", next)
		}
		// A log ending below the position, the topic's ID unchanged: the
		// broker lost records counted before; those written there again
		// are new (attack run 31 F1).
		lost, err := c.checkTruncated(ctx, ends, reach)
		if err != nil {
			c.fatal.CompareAndSwap(nil, &err)
			return nil, err
		}
		for p := range lost {
			delete(ends, p)
		}
		// Or lost them and took new records there before serve looked: the
		// last record counted is not in the log any more.
		rewritten, err := c.checkRewritten(ctx, ends, held, reach, commitEpoch)
		if err != nil {
			c.fatal.CompareAndSwap(nil, &err)
			return nil, err
		}
		if lost == nil {
			lost = map[int32]int64{}
		}
		maps.Copy(lost, rewritten)
		for p, next := range skipped {
			// Where the log's end cut the skips, the partition resumes
			// at the end (checkTruncated).
			from, ok := ends[p]
			if !ok {
				continue
			}
			c.partsMu.Lock()
			at := skipFrom(from, c.skips[p])
			c.partsMu.Unlock()
			if _, ok := lost[p]; ok || at == next {
				continue
			}
			parts[p] = kgo.NewOffset().At(at).WithEpoch(-1)
			c.setPos(p, at)
		}
		for p, end := range lost {
			parts[p] = kgo.NewOffset().At(end).WithEpoch(-1)
			c.setPos(p, end)
		}
		if len(lost) > 0 {
			c.queueStarts(lost)
		}
		// A partition neither the state nor the group holds an offset for
		// starts where the log starts (or ends): looked up here, so that
		// the client knows the partition's position from the start and a
		// batch that must be skipped can be skipped even as the
		// partition's first (kgo.Client.SetOffsets moves only partitions
		// with a known position). A failed lookup leaves the reset to the
		// client.
		if len(unknown) > 0 {
			// A recreated topic is read from its start: none of its
			// records were counted; so is a partition added while serve
			// runs (newparts.go).
			old, added := c.splitNew(ctx, unknown)
			if valid && len(held) > 0 {
				// The state read this topic before: a partition it
				// holds no position for, nor the group an offset, was
				// added since (while serve was stopped, too: attack run
				// 25), and is read from its start as one added while
				// serve runs.
				old, added = nil, unknown
			}
			start, err := c.listOffsets(ctx, topic, old, c.cfg.FromEnd && valid)
			if err != nil {
				c.log.Warn("kafka: looking up where partitions start", "topic", topic, "partitions", old, "err", err)
			}
			if len(added) > 0 {
				fresh, err := c.listOffsets(ctx, topic, added, false)
				if err != nil {
					c.log.Warn("kafka: looking up where partitions start", "topic", topic, "partitions", added, "err", err)
				}
				maps.Copy(start, fresh)
				if c.cfg.FromEnd {
					c.log.Info("kafka: partitions added to the topic since it was first read are read from their start, whatever --kafka-start", "topic", topic, "partitions", added)
				}
			}
			for p, at := range start {
				parts[p] = kgo.NewOffset().At(at).WithEpoch(-1)
				c.setPos(p, at)
				c.setCustody(p, at)
			}
			if c.cfg.FromEnd && valid && len(start) > 0 {
				// Stored at once: a partition that brings no record
				// before serve stops would start at its end again at
				// the restart, passing over what was written to it
				// meanwhile (attack run 19 F6).
				var offs []monitor.Offset
				for _, p := range slices.Sorted(maps.Keys(start)) {
					offs = append(offs, monitor.Offset{Source: c.source, Partition: p, Next: start[p]})
				}
				if _, err := c.cfg.Monitor.ObserveAt(context.WithoutCancel(ctx), nil, offs); err != nil {
					c.log.Warn("kafka: storing where partitions start", "topic", topic, "err", err)
				}
				c.queueStarts(start)
			}
			if !valid {
				for _, p := range unknown {
					if _, ok := start[p]; !ok {
						parts[p] = kgo.NewOffset().AtStart()
					}
				}
			}
		}
		if !valid {
			c.partsMu.Lock()
			starts := map[int32]int64{}
			for p := range parts {
				if at, ok := c.pos[p]; ok {
					starts[p] = at
				}
			}
			c.partsMu.Unlock()
			if err := c.storeRecreated(ctx, stateHeld, starts); err != nil {
				c.fatal.CompareAndSwap(nil, &err)
				return nil, err
			}
		}
		c.checkBelowEnd(ctx, check)
		c.checkUncommitted(uncommitted)
	}
	return offsets, nil
}

// listOffsets returns where partitions of topic start (their log start),
// or with end where they end for the consumer (their last stable offset),
// leaving out those whose lookup failed.
func (c *Consumer) listOffsets(ctx context.Context, topic string, parts []int32, end bool) (map[int32]int64, error) {
	ts := int64(-2) // the log start
	if end {
		ts = -1
	}
	return c.listOffsetsAt(ctx, topic, parts, ts, true)
}

// listOffsetsAt looks up offsets of partitions of topic at ts (-2: the
// log start, -1: its end), as a consumer of committed records (the end is
// the last stable offset) or of all (the high watermark), leaving out
// those whose lookup failed.
func (c *Consumer) listOffsetsAt(ctx context.Context, topic string, parts []int32, ts int64, committed bool) (map[int32]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	select {
	case <-c.clSet:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	if committed {
		req.IsolationLevel = 1 // as the consumer reads
	}
	t := kmsg.NewListOffsetsRequestTopic()
	t.Topic = topic
	for _, p := range parts {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = p
		rp.CurrentLeaderEpoch = -1
		rp.Timestamp = ts
		t.Partitions = append(t.Partitions, rp)
	}
	req.Topics = append(req.Topics, t)
	out := map[int32]int64{}
	var errs []error
	for _, shard := range c.cl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			errs = append(errs, shard.Err)
			continue
		}
		resp, ok := shard.Resp.(*kmsg.ListOffsetsResponse)
		if !ok {
			continue
		}
		for _, rt := range resp.Topics {
			if rt.Topic != topic {
				continue
			}
			for _, rp := range rt.Partitions {
				if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
					errs = append(errs, fmt.Errorf("partition %d: %w", rp.Partition, err))
					continue
				}
				if rp.Offset >= 0 && slices.Contains(parts, rp.Partition) {
					out[rp.Partition] = rp.Offset
				}
			}
		}
	}
	return out, errors.Join(errs...)
}

// unassign forgets partitions revoked or lost. Polls block rebalances
// until their batch is durable and committed, so nothing is pending.
func (c *Consumer) unassign(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
	c.partsMu.Lock()
	for _, p := range parts[c.cfg.Topic] {
		delete(c.assigned, p)
		delete(c.stalled, p)
		delete(c.pos, p)
		delete(c.failedAt, p)
		delete(c.pastBig, p)
		delete(c.checkedAt, p)
		delete(c.resets, p)
		delete(c.waiting, p)
		delete(c.behind, p)
		delete(c.noTopicID, p)
		delete(c.custody, p)
		delete(c.skips, p)
		delete(c.floor, p)
		delete(c.owed, p)
		if u := c.unchecked[p]; u != nil {
			c.log.Warn("kafka: offsets the client passed over were not checked before the partition was revoked", "topic", c.cfg.Topic, "partition", p,
				"offsets", fmt.Sprintf("%d..%d", u.gaps[0].from, u.gaps[len(u.gaps)-1].to-1))
			delete(c.unchecked, p)
		}
	}
	c.partsMu.Unlock()
}

// Run consumes until ctx ends (then it returns nil, having left the group)
// or the monitor fails or its offsets cannot be read (then it returns the
// error: no offset past the rows made durable is committed).
func (c *Consumer) Run(ctx context.Context) error {
	defer c.cl.CloseAllowingRebalance()
	defer c.side.Close()
	lastCheck := time.Now()
	var lastTopicCheck, lastEmptyCheck time.Time
	// The first look-up of a topic while no partition is assigned comes a
	// topic check's interval after the start.
	lastIdleCheck := time.Now().Add(topicCheckEvery - idleTopicCheckEvery)
	c.checkModel(ctx)
	for {
		// A poll waits at most a few seconds, so that the partitions'
		// progress is checked even when nothing comes.
		wait := min(pollWait, c.checkEvery())
		if c.hasUnchecked() {
			wait = uncheckedPollWait // gaps left to check go on at once
		}
		pollCtx, cancel := context.WithTimeout(ctx, wait)
		fetches := c.cl.PollRecords(pollCtx, c.cfg.MaxPollRecords)
		cancel()
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return nil
		}
		switch {
		case time.Since(lastCheck) >= c.checkEvery():
			lastCheck = time.Now()
			c.checkModel(ctx)
			if err := c.checkProgress(ctx, false); err != nil {
				return err
			}
		case fetches.Empty() && time.Since(lastEmptyCheck) >= emptyPollCheck:
			// Nothing came: a partition whose log goes on past its
			// position is checked at once (checkProgress).
			lastEmptyCheck = time.Now()
			if err := c.checkProgress(ctx, true); err != nil {
				return err
			}
		}
		if err := c.fatal.Load(); err != nil {
			return fmt.Errorf("kafka: resuming %s: %w", c.cfg.Topic, *err)
		}
		c.describeRefusal(ctx)
		unreadable := map[int32]error{}
		failed, unknownTopic, unknownID := false, false, false
		fetches.EachError(func(topic string, p int32, err error) {
			c.noteFenced(err)
			c.noteJoinRefused(err)
			if topic == c.cfg.Topic && errors.Is(err, kerr.UnknownTopicID) {
				unknownID = true
				c.failedID(p)
			}
			if topic == c.cfg.Topic && unreadableErr(err) {
				unreadable[p] = err
				return
			}
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, errBudget) {
				failed = true
				if topic == c.cfg.Topic && (errors.Is(err, kerr.UnknownTopicID) || errors.Is(err, kerr.UnknownTopicOrPartition)) {
					unknownTopic = true
				}
				c.logFetchError(topic, p, err)
				c.lastErr.Store(&BrokerError{Error: err.Error(), At: time.Now().UTC()})
			}
		})
		c.commitStarts(ctx) // before the poll's records are committed
		c.readFrom(fetches)
		err := c.batch(ctx, fetches) // checks the gaps a poll before left unchecked too
		if err == nil && len(unreadable) > 0 {
			// After the poll's records: their offsets precede the batch's.
			err = c.skipUnreadable(ctx, c.failedTwice(unreadable))
			if fetches.NumRecords() == 0 {
				// The client fetches a failing batch again at once; a
				// batch that cannot be skipped must not spin the CPU.
				select {
				case <-ctx.Done():
				case <-time.After(50 * time.Millisecond):
				}
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		c.dec.release()
		c.cl.AllowRebalance()
		newID := c.clientNewID.Load()
		if (unknownTopic || newID || c.isMissing() || c.topicSuspect.Swap(false)) && time.Since(lastTopicCheck) >= topicCheckEvery {
			// Deleted, or recreated under an ID the client does not
			// adopt: it fails the topic for ever (attack run 17 F2).
			lastTopicCheck = time.Now()
			if newID {
				c.clientNewID.Store(false)
			}
			if c.checkTopic(ctx, unknownID || newID) {
				c.readd()
			}
		}
		if time.Since(lastIdleCheck) >= idleTopicCheckEvery && time.Since(lastTopicCheck) >= topicCheckEvery && !c.isMissing() && c.noneAssigned() {
			// A topic missing at the start (deleted while serve was
			// stopped, or a typo) is assigned nothing and fails no fetch:
			// looked up, so that it is a problem too (attack run 19 F2).
			lastIdleCheck, lastTopicCheck = time.Now(), time.Now()
			c.checkTopic(ctx, false) // an existing topic is the group's to assign
		}
		if failed && fetches.NumRecords() == 0 {
			// A poll failing at once must not spin the CPU.
			select {
			case <-ctx.Done():
			case <-time.After(fetchErrorBackoff):
			}
		}
	}
}

// emptyPollCheck is how often, at most, a poll that brought nothing
// makes the consumer check its partitions' progress at once (a variable
// for tests).
var emptyPollCheck = time.Second

// fetchErrorBackoff is how long Run waits after a poll that brought
// fetch errors and no record.
const fetchErrorBackoff = 500 * time.Millisecond

// failedTwice returns the partitions of unreadable (the client's errors
// this poll) that failed at the same position the poll before: a batch
// the client cannot read, not a transient error.
func (c *Consumer) failedTwice(unreadable map[int32]error) []badBatch {
	c.partsMu.Lock()
	defer c.partsMu.Unlock()
	var out []badBatch
	for p, err := range unreadable {
		at, ok := c.pos[p]
		if !ok {
			c.stalled[p] = fmt.Sprintf("partition %d: the Kafka client cannot read a batch (%v), and the consumer does not know its position to move past it: restart serve", p, err)
			continue
		}
		if last, seen := c.failedAt[p]; seen && last == at {
			delete(c.failedAt, p)
			out = append(out, badBatch{partition: p, at: at, err: err})
			continue
		}
		c.failedAt[p] = at
	}
	slices.SortFunc(out, func(a, b badBatch) int { return int(a.partition - b.partition) })
	return out
}

// hasUnchecked tells whether gaps are left to check.
func (c *Consumer) hasUnchecked() bool {
	c.partsMu.Lock()
	defer c.partsMu.Unlock()
	return len(c.unchecked) > 0
}

// setPos records partition p's position.
func (c *Consumer) setPos(p int32, at int64) {
	c.partsMu.Lock()
	c.pos[p] = at
	c.partsMu.Unlock()
}

// batch makes the rows of fetches durable with their offsets, then
// commits the offsets to the group. A record at an offset below the
// consumer's position for its partition (the client was reset below it)
// was counted already: it is not counted again, the reset is reported
// and the client set back to the position. Gaps in a partition's offsets
// are checked before its records are counted (countGaps): a batch
// holding a record past its end stops them there (attack run 14 F7).
func (c *Consumer) batch(ctx context.Context, fetches kgo.Fetches) error {
	c.partsMu.Lock()
	pos := maps.Clone(c.pos)
	skips := maps.Clone(c.skips)
	c.partsMu.Unlock()
	var recs []*kgo.Record
	below := map[int32][2]int64{} // the first and last offset read again
	seen := map[int32]bool{}      // partitions with records at or past their position
	passed := map[int32]int64{}   // past the last record another replica counted (skips)
	fetches.EachRecord(func(r *kgo.Record) {
		if r.Topic != c.cfg.Topic {
			return
		}
		if at, known := pos[r.Partition]; known && r.Offset < at {
			b, ok := below[r.Partition]
			if !ok {
				b[0] = r.Offset
			}
			b[1] = r.Offset
			below[r.Partition] = b
			return
		}
		seen[r.Partition] = true
		if _, ok := skipOf(r.Offset, skips[r.Partition]); ok {
			passed[r.Partition] = r.Offset + 1 // counted by another replica (custody.go)
			return
		}
		recs = append(recs, r)
	})
	set := map[int32]kgo.EpochOffset{}
	if len(below) > 0 {
		c.readAgain(ctx, below, pos, set)
	}
	// Offsets passed over without a record (markers, aborted
	// transactions, compaction, or a batch the client could not read) are
	// checked (countGaps).
	var gaps []gap
	last := map[int32]int64{}
	addGap := func(p int32, from, to int64) {
		// Offsets another replica counted are not this one's to check.
		for _, g := range outside(offRange{from, to}, skips[p]) {
			gaps = append(gaps, gap{partition: p, from: g.from, to: g.to})
		}
	}
	for _, r := range recs {
		if want, ok := last[r.Partition]; !ok {
			if at, known := pos[r.Partition]; known && r.Offset > at {
				addGap(r.Partition, at, r.Offset)
			}
		} else if r.Offset > want+1 {
			addGap(r.Partition, want+1, r.Offset)
		}
		last[r.Partition] = r.Offset
	}
	var cuts map[int32]cut
	if len(gaps) > 0 || c.hasUnchecked() {
		cuts = c.countGaps(ctx, gaps)
	}
	next := map[int32]int64{}
	first := map[int32]int64{}
	lastRec := map[int32]*kgo.Record{} // the last record counted, kept with the positions (epoch.go)
	c.models = map[string]found{}
	var used []*model
	// from[m] holds the partitions model m's rows came from.
	from := map[*model]map[int32]bool{}
	n := 0
	for _, r := range recs {
		if ct, ok := cuts[r.Partition]; ok && r.Offset >= ct.drop {
			continue // read again from the batch's end (countGaps)
		}
		n++
		if _, ok := first[r.Partition]; !ok {
			first[r.Partition] = r.Offset
		}
		next[r.Partition] = r.Offset + 1
		lastRec[r.Partition] = r
		if max := c.maxRecordBytes(); int64(len(r.Value)) > max {
			// Decoded, a few 95 MB records held serve at 1 GB (attack
			// run 10); /observations refuses such a body too.
			c.badRecord(ReasonTooLarge, r, fmt.Sprintf("the value is %d bytes, past the %d a record may have (serve --max-body)", len(r.Value), max))
			continue
		}
		if c.cfg.Model == "" {
			if _, err := modelHeader(r.Headers); err != nil {
				c.badRecord(err.reason, r, err.msg)
				continue
			}
		}
		m, name, reason := c.modelOf(ctx, r)
		if m == nil {
			note := ""
			if reason == ReasonUnknownModel {
				note = c.unknownModelNote(name)
			}
			c.badRecordOf(reason, name, r, note)
			continue
		}
		if err := m.rows.add(r.Value, r.Timestamp); err != nil {
			var re *rowError
			errors.As(err, &re)
			c.badRecord(re.reason, r, re.msg)
			continue
		}
		if m.rows.n == 1 {
			used = append(used, m)
			from[m] = map[int32]bool{}
		}
		from[m][r.Partition] = true
	}
	for p := range next {
		if _, ok := below[p]; ok {
			delete(set, p) // read on past its position already
		}
	}
	for p, ct := range cuts {
		// The batch's records were counted bad_batch: its end is stored.
		if _, ok := first[p]; !ok {
			first[p] = ct.drop
		}
		next[p] = ct.next
		set[p] = kgo.EpochOffset{Epoch: -1, Offset: ct.next}
	}
	c.partsMu.Lock()
	for p := range seen {
		delete(c.resets, p) // read on from its position (a reset was logged)
	}
	c.partsMu.Unlock()
	if n == 0 && len(cuts) == 0 && len(passed) == 0 {
		if len(set) > 0 {
			c.moveTo(ctx, set)
		}
		return nil
	}
	// Each batch keeps the offsets of the poll's records of every
	// partition its rows came from: merging replicas' windows refuses
	// records read by two of them (monitor.CheckOverlaps).
	batches := make([]monitor.Batch, len(used))
	for i, m := range used {
		var read []monitor.OffsetRange
		for _, p := range slices.Sorted(maps.Keys(from[m])) {
			// Not the offsets another replica counted, passed over.
			for _, r := range outside(offRange{first[p], next[p]}, skips[p]) {
				read = append(read, monitor.OffsetRange{Source: c.source, Partition: p, First: r.from, Last: r.to - 1})
			}
		}
		batches[i] = monitor.Batch{Model: m.name, Artifact: m.art, Stage: c.cfg.Stage, Cols: m.rows.cols, N: m.rows.n, Read: read}
	}
	for p, o := range passed {
		if _, cut := cuts[p]; !cut && o > next[p] {
			next[p] = o
		}
	}
	offs := make([]monitor.Offset, 0, len(next))
	for p, o := range next {
		offs = append(offs, monitor.Offset{Source: c.source, Partition: p, Next: o})
	}
	// The rows and offsets must reach the disk even as ctx ends: a batch
	// half read is simply read again, but there is no reason to.
	refused, err := c.cfg.Monitor.ObserveAt(context.WithoutCancel(ctx), batches, append(offs[:len(offs):len(offs)], c.lastOffsets(lastRec)...))
	if err != nil {
		return c.storeError(n, offs, err)
	}
	observed := 0
	for i, b := range batches {
		if refused[i] != nil {
			c.addBad(ReasonRefused, int64(b.N))
			c.logBad(ReasonRefused, b.Model, -1, -1, refused[i].Error())
			c.noteRefused(b.Model, int64(b.N), refused[i])
			continue
		}
		c.noteRefused(b.Model, 0, nil)
		observed += b.N
	}
	for _, m := range used {
		m.rows.reset()
	}
	c.records.Add(int64(n))
	c.rows.Add(int64(observed))
	c.metricRecords.Add(float64(n))
	c.metricRows.Add(float64(observed))
	c.partsMu.Lock()
	for p, o := range next {
		if c.assigned[p] {
			c.pos[p] = o
			if sk := c.skips[p]; len(sk) > 0 && sk[len(sk)-1].to <= o {
				delete(c.skips, p) // read past them
			}
		}
	}
	c.partsMu.Unlock()
	if len(set) > 0 {
		c.moveTo(ctx, set)
	}
	if c.afterStore != nil {
		if err := c.afterStore(batches); err != nil {
			return err
		}
	}
	// This replica resumes from the state's offsets; the group's tell the
	// other replicas (and lag tools) where it got to. A commit that fails
	// is retried with the next batch's.
	if err := c.cl.CommitUncommittedOffsets(c.commitCtx(ctx)); err != nil && ctx.Err() == nil {
		c.noteFenced(err)
		c.log.Warn("kafka: committing offsets to the group", "group", c.cfg.Group, "err", err)
	}
	return nil
}

// readAgain reports partitions whose records at offsets below the
// consumer's position (below: the first and last of them) the client
// handed over again: it was reset below the position (an offset out of
// range, reset per ConsumeResetOffset; attack run 14 F7: for ever, every
// 5 s). They are not counted again, and set gets each partition's
// position to set the client back to. A partition whose log now ends
// below the position lost records the broker held (attack run 31 F1):
// it is set to the log's end instead, from where records are new, and
// that is stored and reported (noteTruncated).
func (c *Consumer) readAgain(ctx context.Context, below map[int32][2]int64, pos map[int32]int64, set map[int32]kgo.EpochOffset) {
	ps := slices.Sorted(maps.Keys(below))
	ends, err := c.listOffsetsAt(ctx, c.cfg.Topic, ps, -1, false)
	if err != nil {
		c.log.Warn("kafka: looking up where partitions end, to find records the broker lost", "topic", c.cfg.Topic, "partitions", ps, "err", err)
	}
	for _, p := range ps {
		b := below[p]
		if end, ok := ends[p]; ok && end < pos[p] {
			set[p] = kgo.EpochOffset{Epoch: -1, Offset: end}
			offs := []monitor.Offset{{Source: c.source, Partition: p, Next: end}}
			if _, err := c.cfg.Monitor.ObserveAt(context.WithoutCancel(ctx), nil, offs); err != nil {
				c.log.Warn("kafka: storing the position of a partition whose log ends below it (a restart before its next record resumes at the old position)", "topic", c.cfg.Topic, "partition", p, "position", end, "err", err)
			}
			c.restartCustody(p, end)
			c.noteTruncated(p, pos[p], end, "after the Kafka client was reset below the position")
			c.partsMu.Lock()
			delete(c.resets, p)
			c.partsMu.Unlock()
			continue
		}
		set[p] = kgo.EpochOffset{Epoch: -1, Offset: pos[p]}
		msg := fmt.Sprintf("partition %d: the Kafka client was reset below the consumer's position %d (it read offsets %d..%d again) at %s; they were counted before and are not counted again, and the client is set back to %d. If the broker lost records below %d and records were written there again before this was found, those are not read (the log ends at the position or past it again, and the state keeps no leader epoch to tell)",
			p, pos[p], b[0], b[1], time.Now().UTC().Format(time.RFC3339), pos[p], pos[p])
		if last := c.lastErr.Load(); last != nil && strings.Contains(last.Error, "OUT_OF_RANGE") {
			msg += " (last client error: " + last.Error + ")"
		}
		c.partsMu.Lock()
		_, before := c.resets[p]
		if c.assigned[p] {
			c.resets[p] = msg
		}
		c.partsMu.Unlock()
		if !before {
			c.log.Error("kafka: "+msg, "topic", c.cfg.Topic)
		}
	}
}

// modelOf returns the model of record r and its name, or the name and
// the reason it has none.
func (c *Consumer) modelOf(ctx context.Context, r *kgo.Record) (*model, string, string) {
	name := c.cfg.Model
	if name == "" {
		name, _ = modelHeader(r.Headers) // two different ones are skipped before (duplicate_header)
	}
	if f, ok := c.models[name]; ok {
		return f.m, name, f.reason
	}
	m, reason := c.load(ctx, name)
	c.models[name] = found{m, reason} // nil too: the batch does not ask again
	if reason == ReasonUnknownModel {
		c.unknownModel(ctx, name)
	} else if m != nil {
		c.knownModel(name)
	}
	return m, name, reason
}

// isNotFound tells whether a registry error says the model is not there.
func isNotFound(err error) bool {
	return errors.Is(err, registry.ErrNotFound) || errors.Is(err, registry.ErrInvalidName)
}

// found is a model looked up by name, or the reason there is none.
type found struct {
	m      *model
	reason string
}

// load resolves the model's current artifact.
func (c *Consumer) load(ctx context.Context, name string) (*model, string) {
	if registry.ValidName(name) != nil {
		return nil, ReasonUnknownModel
	}
	v, err := c.cfg.Registry.Resolve(ctx, name, "")
	if err != nil {
		if isNotFound(err) {
			return nil, ReasonUnknownModel
		}
		c.logBad(ReasonModelError, name, -1, -1, err.Error())
		c.noteModelError(name, err)
		return nil, ReasonModelError
	}
	if m := c.loaded[name]; m != nil && m.art.Digest == v.Digest {
		c.noteModelError(name, nil)
		return m, ""
	}
	data, got, err := c.cfg.Registry.Get(ctx, name, v.Version)
	if err != nil {
		c.logBad(ReasonModelError, name, -1, -1, err.Error())
		c.noteModelError(name, err)
		return nil, ReasonModelError
	}
	a, err := artifact.Decode(data, name+"@"+got.Version)
	if err != nil {
		c.logBad(ReasonModelError, name, -1, -1, err.Error())
		c.noteModelError(name, err)
		return nil, ReasonModelError
	}
	t, err := transform.New(a)
	if err != nil {
		c.logBad(ReasonModelError, name, -1, -1, err.Error())
		c.noteModelError(name, err)
		return nil, ReasonModelError
	}
	fields := t.Inputs()
	if c.cfg.Stage == monitor.StageOutput {
		fields = t.Outputs()
	}
	m := &model{name: name, art: a, rows: newRows(fields).withEventTime(c.cfg.EventTime).withVectors(a.VectorColumns())}
	// One artifact per name: an older version's is dropped, and one
	// artifact pushed under two names is two models.
	c.loaded[name] = m
	c.noteModelError(name, nil)
	return m, ""
}

// DefaultMaxRecordBytes is Config.MaxRecordBytes's default: serve's
// --max-body default.
const DefaultMaxRecordBytes = 32 << 20

func (c *Consumer) maxRecordBytes() int64 {
	if c.cfg.MaxRecordBytes > 0 {
		return c.cfg.MaxRecordBytes
	}
	return DefaultMaxRecordBytes
}

func (c *Consumer) badRecord(reason string, r *kgo.Record, msg string) {
	c.badRecordOf(reason, "", r, msg)
}

// badRecordOf counts record r bad and logs it with the model it names.
func (c *Consumer) badRecordOf(reason, model string, r *kgo.Record, msg string) {
	c.addBad(reason, 1)
	c.logBad(reason, model, r.Partition, r.Offset, msg)
}

func (c *Consumer) addBad(reason string, n int64) {
	c.badMu.Lock()
	c.bad[reason] += n
	c.badMu.Unlock()
	c.metricBad.WithLabelValues(reason).Add(float64(n))
}

// maxBadMessage bounds the error logBad logs for a record.
const maxBadMessage = 1024

// logBad logs a bad record at most once a second.
func (c *Consumer) logBad(reason, model string, partition int32, offset int64, msg string) {
	now := time.Now().Unix()
	if last := c.lastLog.Load(); now == last || !c.lastLog.CompareAndSwap(last, now) {
		return
	}
	args := []any{"topic", c.cfg.Topic, "reason", reason}
	if len(model) > errtext.MaxQuoted {
		model = errtext.Quote(model) // a header as long as the producer made it
	}
	if len(msg) > maxBadMessage {
		// Every message quotes record content short (errtext); a bound
		// here too, as a record skipped a second is a log line a second.
		msg = msg[:maxBadMessage] + fmt.Sprintf("... (%d bytes)", len(msg))
	}
	if model != "" || reason == ReasonUnknownModel {
		args = append(args, "model", model)
	}
	if partition >= 0 {
		args = append(args, "partition", partition, "offset", offset)
	}
	if msg != "" {
		args = append(args, "error", msg)
	}
	c.log.Warn("kafka: record skipped (counted in normguard_kafka_bad_records_total)", args...)
}

// BrokerError is an error the Kafka client reported, and when.
type BrokerError struct {
	Error string    `json:"error"`
	At    time.Time `json:"at"`
}

// Stats are the consumer's counts since it started.
type Stats struct {
	Topic   string `json:"topic"`
	Group   string `json:"group"`
	Records int64  `json:"records"`
	Rows    int64  `json:"rows"`
	// BadRecords is the sum of Bad.
	BadRecords int64            `json:"bad_records"`
	Bad        map[string]int64 `json:"bad,omitempty"`
	// Partitions are the partitions of the topic assigned to this
	// consumer, ascending.
	Partitions []int32 `json:"partitions"`
	// Stalled describes partitions stopped at a batch that could not be
	// skipped (Consumer.skipUnreadable, checkProgress), by partition.
	Stalled map[int32]string `json:"stalled,omitempty"`
	// Reset describes partitions whose client was reset below the
	// consumer's position (an offset out of range), by partition: their
	// records read again are not counted again.
	Reset map[int32]string `json:"reset,omitempty"`
	// Waiting describes partitions stopped behind a transaction left open
	// for longer than a progress check, by partition.
	Waiting map[int32]string `json:"waiting,omitempty"`
	// Missing says the topic does not exist (deleted), with what to do.
	Missing string `json:"missing,omitempty"`
	// Recreated says the topic was found deleted and created again since
	// serve started, and read from its start: a problem for
	// RecreatedNotice after it was found.
	Recreated string `json:"recreated,omitempty"`
	// Behind describes partitions whose log ended below the state's
	// position at assignment, by partition (the topic's ID could not say
	// whether the topic was recreated): records below it are not read.
	Behind map[int32]string `json:"behind,omitempty"`
	// Truncated describes partitions whose log was found ending below the
	// consumer's position, the topic's ID unchanged (the broker lost
	// records counted before), by partition: a problem for
	// RecreatedNotice after it was found.
	Truncated map[int32]string `json:"truncated,omitempty"`
	// Skipped describes partitions resumed at the group's committed offset
	// past the state's position whose commit does not say who counted the
	// offsets between (an earlier normguard's), by partition: a problem
	// for RecreatedNotice after it was found.
	Skipped map[int32]string `json:"skipped,omitempty"`
	// Unchecked describes partitions with offsets the client passed over
	// that have waited longer than a progress check to be checked for
	// undecodable batches, with why.
	Unchecked map[int32]string `json:"unchecked,omitempty"`
	// Stuck holds the assigned partitions the client cannot fetch from
	// (UNKNOWN_TOPIC_ID: it holds a recreated topic's old ID), with why.
	Stuck map[int32]string `json:"stuck,omitempty"`
	// Fenced says that another member of the group joined with this
	// consumer's --kafka-instance-id, which fenced this one out of the
	// group: it reads nothing until it joins again.
	Fenced string `json:"fenced,omitempty"`
	// JoinRefused says that the broker refuses this consumer's join to its
	// group (a --kafka-session-timeout outside its bounds, an ACL, ...),
	// with what to do: it reads nothing until it joins.
	JoinRefused string `json:"join_refused,omitempty"`
	// NoModel says that the registry holds no --kafka-model (Config.Model):
	// every record is skipped as unknown_model until it is pushed.
	NoModel string `json:"no_model,omitempty"`
	// OverBudget says, by model, that its records are refused because its
	// window state is at the monitor's budget (--state-budget): dropped
	// and their offsets committed, where /observations answers 429.
	OverBudget map[string]string `json:"over_budget,omitempty"`
	// ModelErrors says, by model, that its records are skipped because its
	// artifact could not be loaded from the registry (model_error).
	ModelErrors map[string]string `json:"model_errors,omitempty"`
	// LastError is the last error fetching from the brokers or joining
	// the group (the client retries), if any.
	LastError *BrokerError `json:"last_error,omitempty"`
	// Brokers are the brokers the consumer tried to connect to, by
	// address, with the outcome of its last attempt to each.
	Brokers []BrokerState `json:"brokers"`

	recreatedRecent bool
}

// RecreatedNotice is how long a topic found recreated is a /healthz
// problem (Stats.Recreated stays until serve stops).
var RecreatedNotice = 15 * time.Minute

// Stats returns the counts of records consumed, rows observed and records
// skipped by reason.
func (c *Consumer) Stats() Stats {
	s := Stats{Topic: c.cfg.Topic, Group: c.cfg.Group, Records: c.records.Load(), Rows: c.rows.Load(), Bad: map[string]int64{},
		LastError: c.lastErr.Load(), Brokers: c.brokers.snapshot()}
	c.partsMu.Lock()
	s.Partitions = slices.Sorted(maps.Keys(c.assigned))
	if len(c.stalled) > 0 {
		s.Stalled = maps.Clone(c.stalled)
	}
	if len(c.resets) > 0 {
		s.Reset = maps.Clone(c.resets)
	}
	if len(c.behind) > 0 {
		s.Behind = maps.Clone(c.behind)
	}
	s.Truncated = recentProblems(c.truncated)
	s.Skipped = recentProblems(c.skipped)
	s.Missing, s.Recreated = c.missing, c.recreated
	s.recreatedRecent = c.recreated != "" && time.Since(c.recreatedAt) < RecreatedNotice
	s.Stuck = c.stuckProblems()
	if len(s.Stuck) > 0 {
		// Its partitions are not read: no notice saying they are.
		s.recreatedRecent = false
	}
	for p, w := range c.waiting {
		if time.Since(w.since) < c.checkEvery() {
			continue
		}
		if s.Waiting == nil {
			s.Waiting = map[int32]string{}
		}
		s.Waiting[p] = fmt.Sprintf("partition %d waits behind an open transaction at offset %d since %s (%d records behind it, up to the high watermark %d): the producer that began it must commit or abort it; if it is gone, the broker aborts it after its transaction.timeout.ms, or abort it by hand (kafka-transactions.sh abort)",
			p, w.at, w.since.UTC().Format(time.RFC3339), w.hw-w.at, w.hw)
	}
	c.partsMu.Unlock()
	s.Unchecked = c.uncheckedProblems()
	if f := c.fenced.Load(); f != nil {
		s.Fenced = f.msg
	}
	s.JoinRefused = c.refusedProblem()
	if s.Partitions == nil {
		s.Partitions = []int32{}
	}
	c.badMu.Lock()
	for k, v := range c.bad {
		s.Bad[k] = v
		s.BadRecords += v
	}
	c.badMu.Unlock()
	if nm := c.noModel.Load(); nm != nil {
		s.NoModel = c.noModelMsg(nm, s.Bad[ReasonUnknownModel])
	}
	s.OverBudget = c.overBudgetProblems()
	s.ModelErrors = c.modelErrorProblems()
	return s
}

// Collectors returns the consumer's metrics, to register beside the
// server's.
func (c *Consumer) Collectors() []prometheus.Collector {
	return []prometheus.Collector{c.metricRecords, c.metricRows, c.metricBad, c.metricUp, c.metricLost}
}
