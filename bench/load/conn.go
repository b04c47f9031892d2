package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
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
// runs on. Here the worker's goroutine does it all, and the answer is still
// parsed by net/http (http.ReadResponse).
type conn struct {
	addr string
	c    net.Conn
	r    *bufio.Reader
	req  *http.Request // for http.ReadResponse (the method matters)
}

func newConn(target *url.URL) *conn {
	host := target.Host
	if target.Port() == "" {
		host = net.JoinHostPort(target.Hostname(), "80")
	}
	return &conn{addr: host, req: &http.Request{Method: http.MethodPost, URL: target}}
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
		nc, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
		if err != nil {
			return 0, nil, err
		}
		c.c, c.r = nc, bufio.NewReaderSize(nc, 16<<10)
	}
	c.c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.c.Write(request); err != nil {
		c.close()
		return 0, nil, err
	}
	resp, err := http.ReadResponse(c.r, c.req)
	if err != nil {
		c.close()
		return 0, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.close()
		return 0, nil, err
	}
	if resp.Close {
		c.close()
	}
	return resp.StatusCode, body, nil
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
