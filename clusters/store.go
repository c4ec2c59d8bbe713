package clusters

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// hostStore is a Store in a directory of this host.
type hostStore struct{ dir string }

// Store is the node's store dir on this host (StoreDir: through powerfs
// when mounted).
func (n *ProcessNode) Store() Store { return hostStore{n.StoreDir()} }

func (s hostStore) path(name string) (string, error) {
	if !filepath.IsLocal(name) {
		return "", fmt.Errorf("store file %q: not a path inside the store", name)
	}
	return filepath.Join(s.dir, name), nil
}

func (s hostStore) Files() ([]string, error) {
	var files []string
	err := filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if info, err := d.Info(); err == nil && info.Size() > 0 {
			rel, _ := filepath.Rel(s.dir, path)
			files = append(files, rel)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

func (s hostStore) Size(name string) (int64, error) {
	p, err := s.path(name)
	if err != nil {
		return 0, err
	}
	info, err := os.Stat(p)
	if err != nil {
		return 0, err
	}
	return info.Size(), nil
}

func (s hostStore) ReadFile(name string) ([]byte, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

func (s hostStore) ReadAt(name string, b []byte, off int64) error {
	f, err := s.open(name, os.O_RDONLY)
	if err != nil {
		return err
	}
	_, err = f.ReadAt(b, off)
	return errors.Join(err, f.Close())
}

// WriteAt writes and fsyncs (through powerfs, data would otherwise stay volatile).
func (s hostStore) WriteAt(name string, b []byte, off int64) error {
	f, err := s.open(name, os.O_WRONLY)
	if err != nil {
		return err
	}
	_, werr := f.WriteAt(b, off)
	return errors.Join(werr, f.Sync(), f.Close())
}

func (s hostStore) Truncate(name string, size int64) error {
	f, err := s.open(name, os.O_WRONLY)
	if err != nil {
		return err
	}
	return errors.Join(f.Truncate(size), f.Sync(), f.Close())
}

func (s hostStore) open(name string, flag int) (*os.File, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	return os.OpenFile(p, flag, 0)
}

func (s hostStore) Wipe() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		errs = append(errs, os.RemoveAll(filepath.Join(s.dir, e.Name())))
	}
	return errors.Join(errs...)
}
