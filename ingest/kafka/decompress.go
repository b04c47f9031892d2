package kafka

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kgo"
)

// batchSlack is what a batch may inflate to beyond the largest record a
// consumer accepts: the other records and the batch's framing.
const batchSlack = 1 << 20

// errBudget refuses a batch while the batches inflated since the last
// poll already hold the budget. The client fetches the batch again after
// the next poll; it is not an error of the partition.
var errBudget = errors.New("kafka: the batches inflated since the last poll hold their budget; fetched again after it")

// decompressor inflates the compressed batches the client fetches under
// two bounds. A batch inflating past batchMax, or not inflating at all,
// is refused (refusedBatch): the client reports it for the partition,
// and the consumer skips it (attack run 11: a 130 KB zstd batch of ten 95 MB
// records inflated to 1 GB before any record could be judged, and many
// such batches in one fetch ran serve out of memory). And once the
// batches inflated since the last poll hold budget bytes, further ones
// are refused with errBudget until the consumer has handled the poll
// (release), so the inflated records held at once stay near
// 2 × (budget + batchMax) whatever the ratio of the compression: the
// fetch being handled, and the ones buffered meanwhile.
//
// franz-go's own decompressor bounds each batch (MaxDecompressBatchBytes)
// but not a fetch, which may hold hundreds of batches.
type decompressor struct {
	batchMax int
	budget   int64
	used     atomic.Int64
	// lastErr is the last batch refused, for the log of the skip.
	lastErr atomic.Pointer[string]
	zstd    sync.Pool
	lz4     sync.Pool // *lz4.Reader, each holding its block buffers
}

func newDecompressor(batchMax int) *decompressor {
	d := &decompressor{batchMax: batchMax, budget: 2 * int64(batchMax)}
	d.zstd.New = func() any {
		dec, err := zstd.NewReader(nil, zstd.WithDecoderLowmem(true), zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(uint64(batchMax)))
		if err != nil {
			return err
		}
		return dec
	}
	return d
}

// release forgets the batches inflated so far: the consumer has handled
// them.
func (d *decompressor) release() { d.used.Store(0) }

// Decompress implements kgo.Decompressor.
func (d *decompressor) Decompress(src []byte, codec kgo.CompressionCodecType) ([]byte, error) {
	if codec == kgo.CodecNone {
		return src, nil
	}
	if d.used.Load() >= d.budget {
		return nil, errBudget
	}
	out, err := d.inflate(src, codec)
	if err == nil && len(out) == 0 {
		// A batch holds at least one record (attack run 12: a zstd batch
		// of no bytes claiming three records stalled its partition).
		err = fmt.Errorf("a %s batch inflates to nothing", codecName(codec))
	}
	if err != nil {
		msg := err.Error()
		d.lastErr.Store(&msg)
		// A batch that does not inflate fails the same way every time it
		// is fetched: the consumer skips it, as one too large.
		return nil, refusedBatch{msg}
	}
	d.used.Add(int64(len(out)))
	return out, nil
}

func (d *decompressor) inflate(src []byte, codec kgo.CompressionCodecType) ([]byte, error) {
	switch codec {
	case kgo.CodecGzip:
		r, err := gzip.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return d.readBounded("gzip", r)
	case kgo.CodecLz4:
		r, _ := d.lz4.Get().(*lz4.Reader)
		if r == nil {
			r = lz4.NewReader(nil)
		}
		defer d.lz4.Put(r)
		r.Reset(bytes.NewReader(src))
		return d.readBounded("lz4", r)
	case kgo.CodecSnappy:
		return d.snappy(src)
	case kgo.CodecZstd:
		v := d.zstd.Get()
		dec, ok := v.(*zstd.Decoder)
		if !ok {
			return nil, fmt.Errorf("zstd: %w", v.(error))
		}
		defer d.zstd.Put(dec)
		out, err := dec.DecodeAll(src, nil)
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
			return nil, d.tooLarge("zstd")
		}
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown compression codec %d", codec)
}

func codecName(codec kgo.CompressionCodecType) string {
	switch codec {
	case kgo.CodecGzip:
		return "gzip"
	case kgo.CodecSnappy:
		return "snappy"
	case kgo.CodecLz4:
		return "lz4"
	case kgo.CodecZstd:
		return "zstd"
	}
	return fmt.Sprintf("codec %d", codec)
}

func (d *decompressor) tooLarge(codec string) error {
	return fmt.Errorf("a %s batch inflates past %d bytes (serve --max-body + 1 MiB)", codec, d.batchMax)
}

// refusedBatch is a batch too large or damaged. It is deliberately not a
// kgo.ErrMaxDecompress: for those the client stops the partition and
// reports it once, and a report lost when the client restarts its
// fetches (kgo.Client.SetOffsets for another partition does) stalled the
// partition for good (attack run 12). Reported at every fetch instead,
// the consumer skips the batch (Consumer.skipUnreadable).
type refusedBatch struct{ msg string }

func (e refusedBatch) Error() string { return e.msg }

// chunkSize is the piece a streamed batch is read in.
const chunkSize = 1 << 20

var chunks = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// readBounded reads r to its end, refusing more than batchMax bytes. It
// reads in pooled chunks and allocates the result once, at its size: a
// growing buffer allocated about four times the batch, which a fetch of
// many large batches turned into a heap twice the budget (attack run
// 12: 375 MB for lz4).
func (d *decompressor) readBounded(codec string, r io.Reader) ([]byte, error) {
	var held []*[chunkSize]byte
	defer func() {
		for _, c := range held {
			chunks.Put(c)
		}
	}()
	total, last := 0, 0
	for {
		c := chunks.Get().(*[chunkSize]byte)
		held = append(held, c)
		n, err := io.ReadFull(r, c[:])
		total += n
		last = n
		if total > d.batchMax {
			return nil, d.tooLarge(codec)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", codec, err)
		}
	}
	out := make([]byte, 0, total)
	for i, c := range held {
		if i == len(held)-1 {
			out = append(out, c[:last]...)
		} else {
			out = append(out, c[:]...)
		}
	}
	return out, nil
}

// xerialMagic starts snappy as the Java producer frames it: the magic,
// two 4-byte versions, then blocks, each a big-endian length and a raw
// snappy block.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

// snappy inflates a raw snappy block or xerial-framed blocks, checking
// the lengths the blocks declare against batchMax before inflating any.
func (d *decompressor) snappy(src []byte) ([]byte, error) {
	if len(src) < 16 || !bytes.HasPrefix(src, xerialMagic) {
		n, err := s2.DecodedLen(src)
		switch {
		case err != nil:
			return nil, fmt.Errorf("snappy: %w", err)
		case n > d.batchMax:
			return nil, d.tooLarge("snappy")
		}
		out, err := s2.Decode(nil, src)
		if err != nil {
			return nil, fmt.Errorf("snappy: %w", err)
		}
		return out, nil
	}
	var blocks [][]byte
	total := 0
	for rest := src[16:]; len(rest) > 0; {
		if len(rest) < 4 {
			return nil, errors.New("snappy: a xerial block length is cut short")
		}
		size := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(size) > uint64(len(rest)) {
			return nil, fmt.Errorf("snappy: a xerial block of %d bytes has %d left", size, len(rest))
		}
		block := rest[:size]
		rest = rest[size:]
		n, err := s2.DecodedLen(block)
		if err != nil {
			return nil, fmt.Errorf("snappy: %w", err)
		}
		if total += n; total > d.batchMax {
			return nil, d.tooLarge("snappy")
		}
		blocks = append(blocks, block)
	}
	out := make([]byte, 0, total)
	for _, b := range blocks {
		// Inflated in place into out's spare room, which the declared
		// lengths sized; append then copies nothing.
		dec, err := s2.Decode(out[len(out):cap(out)], b)
		if err != nil {
			return nil, fmt.Errorf("snappy: %w", err)
		}
		out = append(out, dec...)
	}
	return out, nil
}
