package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// A conn is one keep-alive HTTP/1.1 connection that a worker owns and uses
// for one request at a time: the request's bytes (head and body) go out in
// one write and the answer is read back on the same goroutine.
//
// net/http's Transport runs a reader and a writer goroutine per connection
// and hands each request and answer between them and the caller over
// channels, CPU the generator takes from the cores the server under test
// runs on. Here the worker's goroutine does it all. The answer is read by
// readResponse, which keeps only what the generator needs (status, body,
// framing) and reuses its buffers: http.ReadResponse allocated about 2 KB
// per answer (a header map, strings), which made the generator collect
// garbage during the run, each collection a delay of its own.
type conn struct {
	addr string
	c    net.Conn
	r    *bufio.Reader
	body []byte // the last answer's body, reused
}

func newConn(target *url.URL) *conn {
	host := target.Host
	if target.Port() == "" {
		host = net.JoinHostPort(target.Hostname(), "80")
	}
	return &conn{addr: host}
}

// requestBytes returns the whole request for body: a POST of JSON to
// target, head and body in one buffer.
func requestBytes(target *url.URL, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		target.RequestURI(), target.Host, len(body))
	b.Write(body)
	return b.Bytes()
}

// do sends one prepared request and reads the answer: its status and body.
// A connection that failed, or that the server closes, is dialed again on
// the next request.
func (c *conn) do(request []byte, timeout time.Duration) (int, []byte, error) {
	if c.c == nil {
		if err := c.dial(); err != nil {
			return 0, nil, err
		}
	}
	c.c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.c.Write(request); err != nil {
		c.close()
		return 0, nil, err
	}
	status, closing, err := c.readResponse()
	if err != nil {
		c.close()
		return 0, nil, err
	}
	if closing {
		c.close()
	}
	return status, c.body, nil
}

// readResponse reads an HTTP/1.1 answer to a POST into c.body (valid until
// the next call): its status and whether the server closes the connection
// after it. Bodies framed by Content-Length, chunked or (without either)
// by the end of the connection are read.
func (c *conn) readResponse() (status int, closing bool, err error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, false, fmt.Errorf("reading the status line: %w", err)
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, fmt.Errorf("malformed status line %q", bytes.TrimSpace(line))
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, fmt.Errorf("malformed status line %q", bytes.TrimSpace(line))
	}
	length, chunked := -1, false
	closing = line[7] == '0' // HTTP/1.0 closes unless told otherwise
	for {
		line, err = c.r.ReadSlice('\n')
		if err != nil {
			return 0, false, fmt.Errorf("reading the headers: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, fmt.Errorf("malformed header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			v := bytes.ToLower(value)
			closing = bytes.Contains(v, []byte("close")) || (closing && !bytes.Contains(v, []byte("keep-alive")))
		}
	}
	switch {
	case status/100 == 1 || status == http.StatusNoContent || status == http.StatusNotModified:
		c.body = c.body[:0]
	case chunked:
		c.body, err = readAllInto(c.body[:0], httputil.NewChunkedReader(c.r))
		if err == nil { // the trailer: header lines up to an empty one
			for {
				line, err = c.r.ReadSlice('\n')
				if err != nil || len(bytes.TrimRight(line, "\r\n")) == 0 {
					break
				}
			}
		}
	case length >= 0:
		c.body = slices.Grow(c.body[:0], length)[:length]
		_, err = io.ReadFull(c.r, c.body)
	default: // until the server closes
		c.body, err = readAllInto(c.body[:0], c.r)
		closing = true
	}
	if err != nil {
		return 0, false, fmt.Errorf("reading the body: %w", err)
	}
	return status, closing, nil
}

// readAllInto appends what r holds up to its end to b.
func readAllInto(b []byte, r io.Reader) ([]byte, error) {
	for {
		b = slices.Grow(b, 4096)
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// dial opens the connection.
func (c *conn) dial() error {
	nc, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
	if err != nil {
		return err
	}
	c.c, c.r = nc, bufio.NewReaderSize(nc, 16<<10)
	return nil
}

func (c *conn) close() {
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
}

// checkTarget refuses what this client does not speak (https).
func checkTarget(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("-url: %w", err)
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("-url %s: only http:// is supported (a load test on loopback), not %q", raw, u.Scheme)
	}
	if _, err := strconv.Atoi(u.Port()); u.Port() != "" && err != nil {
		return nil, fmt.Errorf("-url %s: bad port %q", raw, u.Port())
	}
	return u, nil
}
