package quickstart

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/internal/errtext"
)

// The quickstart writes its files into a folder that may already hold
// files of the user's: a spec.yaml edited by hand, a fed.csv of their own
// pipeline. It overwrites only files it wrote itself and that nobody has
// changed since, which it tells by a manifest it keeps in the folder:
// the SHA-256 of each file it wrote. Running it again in its own folder
// works; any other file of one of its names is left alone and the run is
// refused before anything is written.

// ManifestName is the manifest the quickstart keeps in its folder.
const ManifestName = ".normguard-quickstart.json"

// manifest lists the files a quickstart wrote. Complete is false while a
// run is writing them: a run that was stopped leaves its files unlisted,
// and the next one may overwrite them.
type manifest struct {
	Complete bool              `json:"complete"`
	Files    map[string]string `json:"files"` // name -> hex SHA-256
}

// names are the files the quickstart writes, in a fixed order.
func names() []string {
	return []string{Files.Train, Files.Later, Files.Spec, Files.Artifact, Files.Features, Files.Received, Files.Fed}
}

// claimDir checks that the quickstart may write its files into dir and,
// if so, marks the folder as being written. It refuses when a file of one
// of its names exists that the manifest does not list with its current
// content, or that is not a regular file.
func claimDir(dir string) error {
	m, err := readManifest(dir)
	if err != nil {
		return err
	}
	var foreign []string
	for _, name := range names() {
		p := filepath.Join(dir, name)
		st, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("quickstart: %w", err)
		}
		switch {
		case !st.Mode().IsRegular():
			foreign = append(foreign, name+" (not a regular file)")
		case m == nil:
			foreign = append(foreign, name)
		case !m.Complete:
			// Written by a run that was stopped.
		default:
			sum, err := fileSum(p)
			if err != nil {
				return err
			}
			if want, ok := m.Files[name]; !ok || want != sum {
				foreign = append(foreign, name+" (changed since the quickstart wrote it)")
			}
		}
	}
	if len(foreign) > 0 {
		return fmt.Errorf("quickstart: %s already holds %s, which the quickstart did not write or which was changed since; it overwrites only its own unchanged files. Use another --dir, or move those files away", dir, errtext.ListPlain(foreign))
	}
	return writeManifest(dir, &manifest{Files: map[string]string{}})
}

// sealDir records the files the quickstart wrote in dir.
func sealDir(dir string) error {
	m := &manifest{Complete: true, Files: map[string]string{}}
	for _, name := range names() {
		sum, err := fileSum(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		m.Files[name] = sum
	}
	return writeManifest(dir, m)
}

// readManifest returns dir's manifest, or nil when there is none.
func readManifest(dir string) (*manifest, error) {
	p := filepath.Join(dir, ManifestName)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("quickstart: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil || m.Files == nil {
		// Not ours to trust: every existing file then counts as the user's.
		return nil, nil
	}
	for name, sum := range m.Files {
		if !slices.Contains(names(), name) || len(sum) != 2*sha256.Size || strings.ToLower(sum) != sum {
			return nil, nil
		}
	}
	return &m, nil
}

func writeManifest(dir string, m *manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("quickstart: %w", err)
	}
	if err := artifact.WriteFileAtomic(filepath.Join(dir, ManifestName), append(b, '\n')); err != nil {
		return fmt.Errorf("quickstart: %w", err)
	}
	return nil
}

func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("quickstart: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("quickstart: %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
