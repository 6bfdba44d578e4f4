// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package guest

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// cpioWriter writes a cpio archive in the "new ASCII" (newc) format, the
// one the kernel unpacks as an initramfs. Each entry is a 110-byte header
// of hexadecimal fields, the NUL-terminated name, padding to a multiple of
// four bytes, then the data, padded the same way. The archive ends with an
// entry named TRAILER!!!.
//
//	magic "070701"  ino  mode  uid  gid  nlink  mtime  filesize
//	devmajor  devminor  rdevmajor  rdevminor  namesize  check
//
// Owners are root, times are zero and inode numbers count from 1, so that
// the same inputs always give the same bytes.
type cpioWriter struct {
	w   *bufio.Writer
	ino uint32
	off int64
	err error
}

// File type bits of the mode field (as in stat(2)).
const (
	cpioDir     = 0o040000
	cpioRegular = 0o100000
	cpioSymlink = 0o120000
	cpioCharDev = 0o020000
)

func newCPIOWriter(w io.Writer) *cpioWriter {
	return &cpioWriter{w: bufio.NewWriterSize(w, 1<<16)}
}

// header writes one entry's header and name, padded.
func (c *cpioWriter) header(name string, mode uint32, size int, rdevMajor, rdevMinor uint32) {
	if c.err != nil {
		return
	}
	if strings.ContainsRune(name, 0) {
		c.err = fmt.Errorf("cpio: name %q contains NUL", name)
		return
	}
	c.ino++
	nlink := 1
	if mode&0o170000 == cpioDir {
		nlink = 2
	}
	h := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, nlink, 0, size, 0, 0, rdevMajor, rdevMinor, len(name)+1, 0)
	c.write([]byte(h))
	c.write([]byte(name))
	c.write([]byte{0})
	c.pad()
}

func (c *cpioWriter) write(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.off += int64(n)
	c.err = err
}

// pad aligns the output to four bytes.
func (c *cpioWriter) pad() {
	if r := c.off % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

// Dir adds a directory with permission bits perm.
func (c *cpioWriter) Dir(name string, perm uint32) {
	c.header(name, cpioDir|perm&0o7777, 0, 0, 0)
}

// File adds a regular file.
func (c *cpioWriter) File(name string, perm uint32, data []byte) {
	c.header(name, cpioRegular|perm&0o7777, len(data), 0, 0)
	c.write(data)
	c.pad()
}

// Symlink adds a symbolic link name pointing to target.
func (c *cpioWriter) Symlink(name, target string) {
	c.header(name, cpioSymlink|0o777, len(target), 0, 0)
	c.write([]byte(target))
	c.pad()
}

// CharDev adds a character device node.
func (c *cpioWriter) CharDev(name string, perm, major, minor uint32) {
	c.header(name, cpioCharDev|perm&0o7777, 0, major, minor)
}

// Close writes the trailer and flushes; it does not close the underlying
// writer. It returns the first error met.
func (c *cpioWriter) Close() error {
	c.header("TRAILER!!!", 0, 0, 0, 0)
	if c.err != nil {
		return c.err
	}
	return c.w.Flush()
}
