package clusters

import (
	"fmt"
	"net"
	"sync/atomic"
)

// sink accepts connections and closes them at once, counting them.
type sink struct {
	ln       net.Listener
	accepted atomic.Int64
}

func newSink() (*sink, error) { return newSinkOn("127.0.0.1:0") }

// newSinkOn is a sink listening on listen ("host:0").
func newSinkOn(listen string) (*sink, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	s := &sink{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			c.Close()
		}
	}()
	return s, nil
}

func (s *sink) addr() string { return s.ln.Addr().String() }
func (s *sink) close()       { s.ln.Close() }
