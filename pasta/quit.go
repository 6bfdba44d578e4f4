// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package pasta

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// QuitPoll is how often a namespace file under procfs is checked.
const QuitPoll = time.Second

// Watcher reports when the file of a joined network namespace goes away:
// `ip netns delete` removed a bind mount, or the process whose
// /proc/PID/ns/net it was has ended.
type Watcher struct {
	gone chan struct{}
	stop chan struct{}
	dir  int
	file *os.File // inotify; nil when polling
}

// WatchGone starts watching the namespace file at path. A file in a
// directory of a regular file system is watched with inotify (IN_DELETE
// on the directory); one under procfs, sysfs or devpts, where inotify
// sees nothing, is looked up every QuitPoll through a descriptor of its
// directory, which stops resolving once its process is gone, even if the
// PID is used again.
func WatchGone(path string) (*Watcher, error) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	w := &Watcher{gone: make(chan struct{}), stop: make(chan struct{}), dir: dfd}
	var st unix.Statfs_t
	poll := true
	if unix.Fstatfs(dfd, &st) == nil {
		switch st.Type {
		case unix.PROC_SUPER_MAGIC, unix.SYSFS_MAGIC, unix.DEVPTS_SUPER_MAGIC:
		default:
			poll = false
		}
	}
	if !poll {
		if ifd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK); err == nil {
			if _, err := unix.InotifyAddWatch(ifd, dir, unix.IN_DELETE|unix.IN_MOVED_FROM); err == nil {
				w.file = os.NewFile(uintptr(ifd), "inotify")
			} else {
				unix.Close(ifd)
			}
		}
	}
	// Gone already, or between the open and the watch.
	if !w.present(base) {
		close(w.gone)
		close(w.stop)
		if w.file != nil {
			w.file.Close()
		}
		unix.Close(dfd)
		return w, nil
	}
	if w.file != nil {
		go w.inotify(base)
	} else {
		go w.poll(base)
	}
	return w, nil
}

// Gone is closed when the namespace file has gone.
func (w *Watcher) Gone() <-chan struct{} { return w.gone }

// Stop ends the watch.
func (w *Watcher) Stop() {
	select {
	case <-w.stop:
		return
	default:
	}
	close(w.stop)
	if w.file != nil {
		w.file.Close() // wakes the reader
	}
}

// present reports whether base still resolves in the watched directory.
// EACCES means it exists (procfs answers so for another user's process).
func (w *Watcher) present(base string) bool {
	fd, err := unix.Openat(w.dir, base, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
		return true
	}
	return errors.Is(err, unix.EACCES)
}

func (w *Watcher) poll(base string) {
	defer unix.Close(w.dir)
	t := time.NewTicker(QuitPoll)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			if !w.present(base) {
				close(w.gone)
				return
			}
		}
	}
}

func (w *Watcher) inotify(base string) {
	defer unix.Close(w.dir)
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		n, err := w.file.Read(buf)
		if err != nil {
			return // stopped
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			// struct inotify_event: wd, mask, cookie, len, then the name.
			nameLen := int(binary.NativeEndian.Uint32(buf[off+12:]))
			if off+unix.SizeofInotifyEvent+nameLen > n {
				break
			}
			name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+nameLen]
			off += unix.SizeofInotifyEvent + nameLen
			if cString(name) == base && !w.present(base) {
				close(w.gone)
				return
			}
		}
	}
}

// cString is b up to its first NUL.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
