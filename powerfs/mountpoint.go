package powerfs

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ForceUnmount lazily unmounts (MNT_DETACH) whatever is mounted at
// mountpoint, typically the stale mount of a killed keeper. It returns nil
// if nothing is mounted there.
func ForceUnmount(mountpoint string) error {
	mp, err := canonical(mountpoint)
	if err != nil {
		return err
	}
	mounted, err := isMounted(mp)
	if err != nil {
		return err
	}
	if !mounted {
		return nil
	}
	if err := syscall.Unmount(mp, syscall.MNT_DETACH); err != nil && err != syscall.EINVAL && err != syscall.ENOENT {
		return fmt.Errorf("powerfs: force unmount %s: %w", mp, err)
	}
	return nil
}

// IsMounted reports whether something is mounted exactly at dir.
func IsMounted(dir string) (bool, error) {
	mp, err := canonical(dir)
	if err != nil {
		return false, err
	}
	return isMounted(mp)
}

// canonical makes dir absolute and resolves symlinks in its parent (not in
// dir itself: it may be a dead mount that cannot be stat'ed).
func canonical(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("powerfs: %w", err)
	}
	parent, base := filepath.Dir(abs), filepath.Base(abs)
	if p, err := filepath.EvalSymlinks(parent); err == nil {
		parent = p
	}
	if abs == "/" {
		return abs, nil
	}
	return filepath.Join(parent, base), nil
}

// isMounted reads /proc/self/mountinfo; mp must be canonical.
func isMounted(mp string) (bool, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false, fmt.Errorf("powerfs: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && unescapeMountinfo(fields[4]) == mp {
			return true, nil
		}
	}
	return false, sc.Err()
}

// unescapeMountinfo undoes the octal escapes (\040 for space, ...) of
// /proc/self/mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
