// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package logging

import (
	"bytes"
	"fmt"
	"os"
)

// MinFileSize is the smallest --log-size accepted: room for a few lines.
const MinFileSize = 4096

// capped is a log file kept under a size limit. When a line would not fit,
// the oldest whole lines are dropped so that a quarter of the limit is free
// again, by rewriting the file in place (the log is small: 1 MiB unless the
// user asks for more).
type capped struct {
	f    *os.File
	size int64
	used int64
}

func newCapped(f *os.File, size int64) (*capped, error) {
	if size < MinFileSize {
		return nil, fmt.Errorf("log size %d is below the minimum of %d bytes", size, MinFileSize)
	}
	if err := f.Truncate(0); err != nil {
		return nil, fmt.Errorf("truncate log file: %w", err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return nil, fmt.Errorf("seek log file: %w", err)
	}
	return &capped{f: f, size: size}, nil
}

func (c *capped) write(line string) {
	if int64(len(line)) > c.size/2 {
		line = line[:c.size/2-1] + "\n"
	}
	if c.used+int64(len(line)) > c.size {
		c.rotate()
	}
	n, _ := c.f.WriteAt([]byte(line), c.used)
	c.used += int64(n)
}

// rotate drops the oldest lines until a quarter of the file is free.
func (c *capped) rotate() {
	buf := make([]byte, c.used)
	n, _ := c.f.ReadAt(buf, 0)
	buf = buf[:n]
	cut := int64(len(buf)) - c.size*3/4
	if cut < 0 {
		cut = 0
	}
	if cut > 0 {
		if i := bytes.IndexByte(buf[cut:], '\n'); i >= 0 {
			cut += int64(i) + 1
		} else {
			cut = int64(len(buf))
		}
	}
	keep := buf[cut:]
	c.f.WriteAt(keep, 0)
	c.f.Truncate(int64(len(keep)))
	c.used = int64(len(keep))
}
