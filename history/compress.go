package history

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Names of the history in a run directory: plain, or gzip-compressed
// (`jetstorm run --compress`, for long soaks: an hour at 10,000 publishes
// a second is several GB of JSON lines, and compresses about tenfold).
const (
	FileName           = "history.jsonl"
	CompressedFileName = "history.jsonl.gz"
)

// File is the history of the run directory dir: history.jsonl, else
// history.jsonl.gz when only that exists (else history.jsonl, so an error
// names the file a run writes by default).
func File(dir string) string {
	plain := filepath.Join(dir, FileName)
	if _, err := os.Stat(plain); err != nil {
		if gz := filepath.Join(dir, CompressedFileName); exists(gz) {
			return gz
		}
	}
	return plain
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// open opens a history file for reading, decompressing it when it starts
// with gzip's magic bytes (whatever its name).
func open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, 256<<10)
	magic, _ := br.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return readCloser{br, f}, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return readCloser{zr, f}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// cut reports whether err is a compressed stream ending mid-way: what a
// jetstorm killed while writing history.jsonl.gz leaves. Every line before
// the last flush (at most a second old) reads back.
func cut(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }

// CreateCompressed is Create writing gzip: ops are flushed to the file
// every second (and at Close), so a jetstorm killed mid-run loses at most
// the last second of ops, where Create loses none.
func CreateCompressed(path string) (*Recorder, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create history: %w", err)
	}
	zw := gzip.NewWriter(f)
	r := NewRecorder(zw, false)
	r.f = f
	r.gz = zw
	r.stopFlush = make(chan struct{})
	r.flushDone = new(sync.WaitGroup)
	r.flushDone.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-r.stopFlush:
				return
			case <-t.C:
				r.mu.Lock()
				if r.gz != nil {
					if err := r.gz.Flush(); err != nil && r.err == nil {
						r.err = fmt.Errorf("write history: %w", err)
					}
				}
				r.mu.Unlock()
			}
		}
	})
	return r, nil
}
