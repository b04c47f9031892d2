package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/registry"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// DigestHeader carries the digest of the artifact that produced a
// response.
const DigestHeader = "Normguard-Artifact-Digest"

// prepared is an artifact ready to serve: its transformer, what decoding
// a request needs, and the constant head of every response, all made once
// rather than per request.
type prepared struct {
	t       *transform.Transformer
	index   map[string]int   // input field name -> position (rowsBody)
	vectors map[string][]int // vector column -> its dimension fields
	head    []byte           // {"columns":[...],"rows":[
	outs    sync.Pool        // *table.Batch shaped by t.NewOutput
}

// output returns an output batch to transform into; give it back with
// putOutput once the response is written.
func (p *prepared) output() *table.Batch {
	if b, ok := p.outs.Get().(*table.Batch); ok {
		return b
	}
	return p.t.NewOutput()
}

// putOutput recycles a small output batch, dropping what it shares with
// the request's input.
func (p *prepared) putOutput(b *table.Batch) {
	if b.Rows > 4096 {
		return
	}
	for j := range b.Cols {
		if c := &b.Cols[j]; c.Kind == table.String {
			clear(c.Str)
		}
	}
	p.outs.Put(b)
}

// Defaults of the transformer cache's bounds (Config.MaxTransformers and
// Config.MaxTransformerBytes).
const (
	// DefaultMaxTransformers is the number of prepared transformers kept
	// besides those of the models' current versions.
	DefaultMaxTransformers = 32
	// DefaultMaxTransformerBytes bounds the artifact bytes of the
	// prepared transformers kept besides those of the models' current
	// versions (a prepared transformer holds about its artifact's size).
	DefaultMaxTransformerBytes = 512 << 20
)

// transformerCache holds prepared transformers by artifact digest.
// Artifacts are immutable, so an entry never goes stale; a new current
// version resolves to a new digest and is loaded on first use.
//
// Anyone who may transform can name any stored version, so the cache is
// bounded: the transformers of the models' current versions (as last
// resolved) are always kept, and of the others at most max, of at most
// maxBytes artifact bytes together (the one just loaded is kept whatever
// its size); past that, the least recently used is dropped and loaded
// again when next asked for. A lookup takes no lock.
type transformerCache struct {
	store    registry.Store
	max      int        // 0: DefaultMaxTransformers
	maxBytes int64      // 0: DefaultMaxTransformerBytes
	mu       sync.Mutex // held while loading and evicting
	byDig    sync.Map   // digest -> *cacheEntry
	current  sync.Map   // model -> digest of its current version, as last resolved
	tick     atomic.Int64
}

// cacheEntry is a prepared transformer and when it was last used.
type cacheEntry struct {
	p    *prepared
	size int64 // the artifact's bytes
	dig  string
	used atomic.Int64 // transformerCache.tick at the last get
}

// get resolves model@version (version "" is the current one) and returns
// its transformer.
func (c *transformerCache) get(ctx context.Context, model, version string) (*prepared, registry.Version, error) {
	v, err := c.store.Resolve(ctx, model, version)
	if err != nil {
		return nil, v, err
	}
	c.noteCurrent(model, v)
	if e, ok := c.byDig.Load(v.Digest); ok {
		e := e.(*cacheEntry)
		e.used.Store(c.tick.Add(1))
		return e.p, v, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byDig.Load(v.Digest); ok {
		e := e.(*cacheEntry)
		e.used.Store(c.tick.Add(1))
		return e.p, v, nil
	}
	data, got, err := c.store.Get(ctx, model, v.Version)
	if err != nil {
		return nil, v, err
	}
	a, err := artifact.Decode(data, model+"@"+got.Version)
	if err != nil {
		return nil, v, fmt.Errorf("loading %s@%s: %w", model, got.Version, err)
	}
	t, err := transform.New(a)
	if err != nil {
		return nil, v, fmt.Errorf("preparing %s@%s: %w", model, got.Version, err)
	}
	p := &prepared{t: t, index: fieldIndex(t.Inputs()), vectors: vectorFields(a, t.Inputs()), head: encodeHead(t.Outputs())}
	e := &cacheEntry{p: p, size: int64(len(data)), dig: got.Digest}
	e.used.Store(c.tick.Add(1))
	c.byDig.Store(got.Digest, e)
	c.evict(got.Digest)
	return p, got, nil
}

// noteCurrent records the digest of model's current version when v is
// it, and forgets it when v, no longer current, was.
func (c *transformerCache) noteCurrent(model string, v registry.Version) {
	d, ok := c.current.Load(model)
	switch {
	case v.Current && (!ok || d.(string) != v.Digest):
		c.current.Store(model, v.Digest)
	case !v.Current && ok && d.(string) == v.Digest:
		c.current.CompareAndDelete(model, v.Digest)
	}
}

// evict drops the least recently used transformers that are no model's
// current version until the others are within the bounds, keeping keep
// (the one just loaded). The caller holds c.mu.
func (c *transformerCache) evict(keep string) {
	most, mostBytes := c.max, c.maxBytes
	if most <= 0 {
		most = DefaultMaxTransformers
	}
	if mostBytes <= 0 {
		mostBytes = DefaultMaxTransformerBytes
	}
	pinned := map[string]bool{}
	c.current.Range(func(_, d any) bool {
		pinned[d.(string)] = true
		return true
	})
	var others []*cacheEntry
	var bytes int64
	c.byDig.Range(func(_, e any) bool {
		if e := e.(*cacheEntry); !pinned[e.dig] {
			others = append(others, e)
			bytes += e.size
		}
		return true
	})
	if len(others) <= most && bytes <= mostBytes {
		return
	}
	sort.Slice(others, func(i, j int) bool { return others[i].used.Load() < others[j].used.Load() })
	n := len(others)
	for _, e := range others {
		if n <= most && bytes <= mostBytes {
			break
		}
		if e.dig == keep {
			continue
		}
		c.byDig.Delete(e.dig)
		n--
		bytes -= e.size
	}
}

// len returns the number of transformers held.
func (c *transformerCache) len() (n int) {
	c.byDig.Range(func(any, any) bool { n++; return true })
	return n
}

// readBody reads a request body up to limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, limit)
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	return data, nil
}

func (s *Server) handleTransform(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	model, version := r.PathValue("name"), r.PathValue("version")
	status, ver, err := s.transform(w, r, model, version)
	if err != nil {
		status = fail(w, err)
	}
	s.metrics.observe("transform", model, ver, status, time.Since(start))
}

// transform answers one transform request; it returns the status written
// and the version applied (for metrics) or an error to answer.
func (s *Server) transform(w http.ResponseWriter, r *http.Request, model, version string) (int, string, error) {
	// Resolve validates both names (registry.ErrInvalidName, a 400).
	p, v, err := s.cache.get(r.Context(), model, version)
	if err != nil {
		return 0, "", err
	}
	t := p.t
	data, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return 0, v.Version, err
	}
	dec := &rowsBody{fields: t.Inputs(), index: p.index, vectors: p.vectors, maxRows: s.cfg.MaxRows}
	cols, n, err := dec.decode(data)
	if err != nil {
		return 0, v.Version, err
	}
	in := &table.Batch{Rows: n, Cols: cols}
	out := p.output()
	defer p.putOutput(out)
	if err := t.Batch(in, out, "request"); err != nil {
		return 0, v.Version, badRequest("%v", err)
	}
	s.metrics.addRows("transform", model, v.Version, n)
	if s.cfg.Monitor != nil && n > 0 {
		s.cfg.Monitor.ObserveAsync(model, t.Artifact(), monitor.StageInput, cols, n)
	}
	bp := bufPool.Get().(*[]byte)
	buf := encodeRows(append((*bp)[:0], p.head...), out, v.Digest)
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h[DigestHeader] = []string{v.Digest}
	w.WriteHeader(http.StatusOK)
	w.Write(buf)
	if cap(buf) <= 1<<20 {
		*bp = buf
		bufPool.Put(bp)
	}
	return http.StatusOK, v.Version, nil
}

var (
	jsonContentType = []string{"application/json"}
	bufPool         = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}
)

// encodeHead returns the start of every transform response of an
// artifact: {"columns":[...],"rows":[
func encodeHead(fields []table.Field) []byte {
	b := []byte(`{"columns":[`)
	for j, f := range fields {
		if j > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, f.Name)
	}
	return append(b, `],"rows":[`...)
}

// encodeRows appends the rows and the digest to a response head (see
// encodeHead): {"columns":[...],"rows":[[...],...],"artifact_digest":"..."}.
// Numbers are written as the CLI writes them to .jsonl (appendNumber):
// the same text, so a client reads exactly the bits the CLI writes; NaN
// (a missing output) is null, ±Inf "Infinity" and "-Infinity".
func encodeRows(b []byte, out *table.Batch, digest string) []byte {
	for i := 0; i < out.Rows; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j := range out.Cols {
			if j > 0 {
				b = append(b, ',')
			}
			c := &out.Cols[j]
			switch {
			case c.Kind == table.Numeric:
				x := c.Num[i]
				b = appendNumber(b, x)
			case c.IsMissing(i):
				b = append(b, "null"...)
			default:
				b = appendJSONString(b, c.Str[i])
			}
		}
		b = append(b, ']')
	}
	b = append(b, `],"artifact_digest":`...)
	b = appendJSONString(b, digest)
	return append(b, "}\n"...)
}

// appendNumber appends x as `normguard transform` writes it to .jsonl
// (table.AppendJSONFloat, the one implementation): the shortest number
// that parses back to the same float64 bits, null for NaN (a missing
// output), the strings "Infinity" and "-Infinity" for ±Inf.
func appendNumber(b []byte, x float64) []byte { return table.AppendJSONFloat(b, x) }

// appendJSONString appends s as a JSON string, escaping what JSON requires
// and the HTML-sensitive characters encoding/json escapes.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0xFFFD && size == 1 {
			b = append(b, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
