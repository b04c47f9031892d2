package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/normguard/normguard/ingest/kafka"
	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/registry"
	"github.com/normguard/normguard/server"
)

// kafkaOptions are serve's --kafka-* flags.
type kafkaOptions struct {
	brokers  string
	topic    string
	group    string
	model    string
	stage    string
	instance string
	newGroup bool
	start    string
	session  time.Duration
	// flags is serve's flag set, to read --time-column from.
	flags *pflag.FlagSet
}

func (k *kafkaOptions) addFlags(f *pflag.FlagSet) {
	k.flags = f
	f.StringVar(&k.brokers, "kafka-brokers", "", "consume JSON rows from Kafka: seed brokers, host:port[,host:port...]")
	f.StringVar(&k.topic, "kafka-topic", "", "topic whose records are JSON rows {\"column\": value, ...} (with --kafka-brokers)")
	f.StringVar(&k.group, "kafka-group", "", "consumer group; replicas in one group share the partitions (with --kafka-brokers)")
	f.StringVar(&k.model, "kafka-model", "", "model of every record (default: each record's \"model\" header)")
	f.StringVar(&k.stage, "kafka-stage", "input", "stage the rows are observed at: input or output")
	f.BoolVar(&k.newGroup, "kafka-new-group", false, "read the topic under a --kafka-group the state never read it with, although it read it with another (refused otherwise: the records would be counted twice); only for a topic deleted and created again")
	f.StringVar(&k.instance, "kafka-instance-id", "", "static group member id: a replica restarted within the session timeout keeps its partitions")
	f.DurationVar(&k.session, "kafka-session-timeout", 45*time.Second, "how long the group waits for a silent replica before handing its partitions to the others")
	f.StringVar(&k.start, "kafka-start", "earliest", "where a partition the group never committed starts: earliest or latest")
}

// setup returns the Kafka consumer the flags ask for, feeding
// cfg.Monitor and counted in /healthz through cfg.Ingest, or nil without
// --kafka-brokers. With --time-column (timeColumn) a record without that
// column takes its Kafka timestamp as event time.
func (k *kafkaOptions) setup(cfg *server.Config, store registry.Store, log *slog.Logger) (*kafka.Consumer, error) {
	timeColumn := ""
	if f := k.flags.Lookup("time-column"); f != nil {
		timeColumn = f.Value.String()
	}
	c, err := k.consumer(store, cfg.Monitor, timeColumn, cfg.MaxBodyBytes, log)
	if c != nil {
		cfg.Ingest = func() (any, string) {
			st := c.Stats()
			return map[string]any{"kafka": st}, st.Problem()
		}
	}
	return c, err
}

func (k *kafkaOptions) consumer(store registry.Store, mon *monitor.Monitor, timeColumn string, maxRecord int64, log *slog.Logger) (*kafka.Consumer, error) {
	if k.brokers == "" {
		// Any other --kafka-* flag given alone would be ignored unseen.
		var given []string
		k.flags.Visit(func(f *pflag.Flag) {
			if strings.HasPrefix(f.Name, "kafka-") {
				given = append(given, "--"+f.Name)
			}
		})
		if slices.Contains(given, "--kafka-brokers") {
			return nil, errors.New(`--kafka-brokers "" names no broker: list them as host:port,host:port, or leave the Kafka flags out`)
		}
		if len(given) > 0 {
			return nil, fmt.Errorf("%s given, but the Kafka flags need --kafka-brokers", strings.Join(given, ", "))
		}
		return nil, nil
	}
	if k.topic == "" || k.group == "" {
		return nil, errors.New("--kafka-brokers needs --kafka-topic and --kafka-group")
	}
	if mon == nil {
		return nil, errors.New("--kafka-brokers feeds monitoring: drop --no-monitor")
	}
	if k.stage != "input" && k.stage != "output" {
		return nil, fmt.Errorf("--kafka-stage must be input or output, not %q", k.stage)
	}
	if k.session <= 0 {
		return nil, fmt.Errorf("--kafka-session-timeout must be positive, got %v", k.session)
	}
	if k.start != "earliest" && k.start != "latest" {
		return nil, fmt.Errorf("--kafka-start must be earliest or latest, not %q", k.start)
	}
	var brokers []string
	for _, b := range strings.Split(k.brokers, ",") {
		if b = strings.TrimSpace(b); b == "" {
			return nil, fmt.Errorf("--kafka-brokers %q has an empty entry: list host:port,host:port", k.brokers)
		}
		// A malformed address would only be retried and logged for ever.
		host, port, err := net.SplitHostPort(b)
		if p, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("--kafka-brokers entry %s is not host:port (a host name or address, a port 1-65535; an IPv6 address in brackets, [::1]:9092)", errtext.Quote(b))
		}
		brokers = append(brokers, b)
	}
	c, err := kafka.New(kafka.Config{
		Brokers: brokers, Topic: k.topic, Group: k.group, NewGroup: k.newGroup, InstanceID: k.instance,
		SessionTimeout: k.session, EventTime: timeColumn, Model: k.model, Stage: monitor.Stage(k.stage), FromEnd: k.start == "latest",
		Registry: store, Monitor: mon, Logger: log, MaxRecordBytes: maxRecord,
	})
	if err != nil {
		return nil, fmt.Errorf("--kafka-*: %w", err)
	}
	return c, nil
}

// serveWithKafka serves srv on ln and, when c is not nil, runs the
// consumer beside it. The consumer stops first (its last batch is durable
// before the monitor closes); a consumer that fails stops the server and
// its error is returned.
func serveWithKafka(ctx context.Context, srv *server.Server, ln net.Listener, c *kafka.Consumer, log *slog.Logger) error {
	if c == nil {
		return srv.Serve(ctx, ln)
	}
	for _, col := range c.Collectors() {
		if err := srv.Registry().Register(col); err != nil {
			return fmt.Errorf("registering the Kafka metrics: %w", err)
		}
	}
	cctx, stopConsumer := context.WithCancel(ctx)
	defer stopConsumer()
	sctx, stopServer := context.WithCancel(context.Background())
	defer stopServer()
	consumed := make(chan error, 1)
	go func() {
		err := c.Run(cctx)
		if err != nil {
			log.Error("kafka consumer stopped", "err", err)
		}
		consumed <- err
		stopServer()
	}()
	go func() {
		select {
		case <-ctx.Done():
		case <-sctx.Done():
		}
		stopConsumer()
	}()
	// The server (and with it the monitor) stops once the consumer has.
	serveErr := srv.Serve(sctx, ln)
	stopConsumer()
	runErr := <-consumed
	if runErr != nil {
		return errors.Join(fmt.Errorf("consuming Kafka: %w", runErr), serveErr)
	}
	return serveErr
}
