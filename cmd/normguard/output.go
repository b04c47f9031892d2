package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/internal/errtext"
)

// colorOutput reports whether a report bound for out ("" = standard
// output) goes to a terminal, where tables are coloured.
func colorOutput(cmd *cobra.Command, out string) bool {
	f, ok := underlying(cmd.OutOrStdout()).(*os.File)
	return (out == "" || out == stdoutName) && ok && isTerminal(f)
}

// stdoutName is the output path that means standard output (--out -), as
// transform and pull read it, for every command writing a single file
// (attack run 18 F7d: fit, export, drift, validate, diagnose and monitor
// replay wrote a file named "-").
const stdoutName = "-"

// outName names an output path in messages ("-" is standard output).
func outName(out string) string {
	if out == stdoutName {
		return "standard output"
	}
	return out
}

// writeFileOrStdout writes data to the file out (artifact.WriteFileAtomic)
// or, for "-", to standard output.
func writeFileOrStdout(cmd *cobra.Command, out string, data []byte) error {
	if out == stdoutName {
		_, err := cmd.OutOrStdout().Write(data)
		return err
	}
	return artifact.WriteFileAtomic(out, data)
}

// writeOutput writes a rendered report to out (artifact.WriteFileAtomic:
// a temporary file renamed into place; a device, FIFO or /dev/stdout is
// written in place), or to standard output when out is "" or "-".
func writeOutput(cmd *cobra.Command, out string, b []byte) error {
	if out != "" && out != stdoutName {
		return artifact.WriteFileAtomic(out, b)
	}
	_, err := cmd.OutOrStdout().Write(b)
	return err
}

// outputFlags are the flags that name a file a command writes.
var outputFlags = []string{"out", "transform-out", "merged-out"}

// inputFlags are the flags that name a file a command reads (bundle's
// --model too: elsewhere --model is a model's name).
var inputFlags = []string{"artifact", "in", "data", "spec", "current", "reference",
	"raw", "observed", "candidate", "canaries", "state"}

// outsideRegistry refuses an output inside the registry folder the
// command reads (--registry): pull --out reg/models/M/current.json
// replaced the registry's file with the artifact, exit 0 (attack run
// 22). written maps each output's absolute path to its flag.
func outsideRegistry(cmd *cobra.Command, written map[string]string) error {
	f := cmd.Flags().Lookup("registry")
	if f == nil || f.Value.String() == "" || strings.Contains(f.Value.String(), "://") {
		return nil
	}
	reg, err := filepath.Abs(f.Value.String())
	if err != nil {
		return nil
	}
	if r, err := filepath.EvalSymlinks(reg); err == nil {
		reg = r
	}
	for abs, flag := range written {
		if abs == stdoutName {
			continue
		}
		dir := filepath.Dir(abs)
		if d, err := filepath.EvalSymlinks(dir); err == nil {
			dir = d
		}
		paths := []string{filepath.Join(dir, filepath.Base(abs))}
		if target, err := filepath.EvalSymlinks(abs); err == nil {
			paths = append(paths, target) // a link into the registry (attack run 24)
		}
		inside := false
		for _, p := range paths {
			if rel, err := filepath.Rel(reg, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				inside = true
			}
		}
		if inside {
			return fmt.Errorf("%s: %s names %s, inside the registry folder --registry names (%s): writing there would replace or add a registry file; give %s a path outside it",
				cmd.Name(), flag, errtext.Quote(abs), errtext.Quote(f.Value.String()), flag)
		}
	}
	return nil
}

// besideState refuses an output naming a file kept beside --state that
// does not exist yet (a state without vector windows): export --out
// m.db.vectors.json wrote it, and the next serve refused it as a damaged
// vector state (attack run 26). written maps each output's absolute path
// to its flag.
func besideState(cmd *cobra.Command, written map[string]string) error {
	f := cmd.Flags().Lookup("state")
	if f == nil || f.Value.String() == "" {
		return nil
	}
	v := f.Value.String()
	for _, base := range []string{v, stateFile(v)} {
		for _, suffix := range stateCompanions {
			abs, err := filepath.Abs(base + suffix)
			if err != nil {
				continue
			}
			if flag, ok := written[abs]; ok {
				return fmt.Errorf("%s: %s names %s, a file serve keeps beside --state %s (%s): writing it would make the state look damaged; give %s another path",
					cmd.Name(), flag, errtext.Quote(base+suffix), errtext.Quote(v), companionWhat(suffix), flag)
			}
		}
	}
	return nil
}

// companionWhat says what a state's companion file holds.
func companionWhat(suffix string) string {
	switch suffix {
	case ".mark":
		return "its marker"
	case ".vectors.json":
		return "the vector windows' snapshot"
	case ".vectors.json.journal":
		return "the vector windows' journal"
	}
	return "the vector windows' marker"
}

// stateFile is the path a --state names, for the files kept beside it: a
// symbolic link to a state resolved to the file it points to, unless
// companions were kept beside the link itself (a state always given by
// the link). serve refused a sound state given by a link as damaged
// ("marker ... is missing"), and export's --out check missed its
// companions (attack run 24).
func stateFile(path string) string {
	st, err := os.Lstat(path)
	if err != nil || st.Mode()&fs.ModeSymlink == 0 {
		return path
	}
	for _, suffix := range stateCompanions {
		if _, err := os.Lstat(path + suffix); err == nil {
			return path
		}
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return path
	}
	return target
}

// stateCompanions are the suffixes of the files kept beside a monitor
// state file: its marker, and the vector windows' snapshot, journal and
// marker.
var stateCompanions = []string{".mark", ".vectors.json", ".vectors.json.journal", ".vectors.json.mark"}

// checkOutputs refuses, before the command reads anything, an output flag
// naming a file the command also reads (given by an input flag or as an
// argument, by the same path, another path, a link or a hard link), or the
// file another output flag names: the output would replace it (`transform
// --in same.csv --out same.csv` replaced the raw data with the features,
// exit 0: attack run 8, F5). Devices are not compared (--in /dev/stdin
// --out /dev/stdout on a terminal is one device).
func checkOutputs(cmd *cobra.Command, args []string) error {
	type file struct {
		what, path string
		st         fs.FileInfo
	}
	stat := func(what, path string) (file, bool) {
		if path == "" || path == "-" {
			return file{}, false
		}
		st, err := os.Stat(path)
		if err != nil || !(st.Mode().IsRegular() || st.Mode()&fs.ModeNamedPipe != 0) {
			return file{}, false
		}
		return file{what, path, st}, true
	}
	var outs, ins []file
	flags := cmd.Flags()
	written := map[string]string{} // absolute path → output flag
	for _, name := range outputFlags {
		f := flags.Lookup(name)
		if f != nil && f.Value.String() == stdoutName {
			if other, ok := written[stdoutName]; ok {
				return fmt.Errorf("%s: %s and --%s both name standard output (-): the two outputs would be mixed; give one of them a file", cmd.Name(), other, name)
			}
			written[stdoutName] = "--" + name
		}
		if f == nil || f.Value.String() == "" || f.Value.String() == stdoutName {
			continue
		}
		if abs, err := filepath.Abs(f.Value.String()); err == nil {
			if other, ok := written[abs]; ok {
				return fmt.Errorf("%s: %s and --%s name the same file (%s): one output would replace the other; give --%s another path",
					cmd.Name(), other, name, errtext.Quote(f.Value.String()), name)
			}
			written[abs] = "--" + name
		}
		if o, ok := stat("--"+name, f.Value.String()); ok {
			outs = append(outs, o)
		}
	}
	if err := outsideRegistry(cmd, written); err != nil {
		return err
	}
	if err := besideState(cmd, written); err != nil {
		return err
	}
	if len(outs) == 0 {
		return nil
	}
	reads := inputFlags
	if cmd.Name() == "bundle" {
		reads = append(slices.Clip(reads), "model")
	}
	flags.Visit(func(f *pflag.Flag) {
		if !slices.Contains(reads, f.Name) {
			return
		}
		vals := []string{f.Value.String()}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			vals = sv.GetSlice()
		}
		for _, v := range vals {
			if in, ok := stat("--"+f.Name, v); ok {
				ins = append(ins, in)
			}
			if f.Name == "state" {
				// The files kept beside a state are read with it:
				// an export over the marker made the next serve refuse
				// the state, one over the vector journal lost its
				// vectors (attack run 22); beside the file a link
				// names too (attack run 24).
				for _, base := range []string{v, stateFile(v)} {
					for _, suffix := range stateCompanions {
						if in, ok := stat("--state", base+suffix); ok {
							ins = append(ins, in)
						}
					}
				}
			}
		}
	})
	for _, a := range args {
		if in, ok := stat("the argument", a); ok {
			ins = append(ins, in)
		}
	}
	for i, o := range outs {
		for j, other := range append(slices.Clip(ins), outs[i+1:]...) {
			if !os.SameFile(o.st, other.st) {
				continue
			}
			where := errtext.Quote(o.path)
			if other.path != o.path {
				where = fmt.Sprintf("%s and %s", errtext.Quote(o.path), errtext.Quote(other.path))
			}
			why := fmt.Sprintf("writing it would replace what %s reads", other.what)
			if j >= len(ins) {
				why = "one output would replace the other"
			}
			return fmt.Errorf("%s: %s and %s name the same file (%s): %s; give %s another path",
				cmd.Name(), o.what, other.what, where, why, o.what)
		}
	}
	return nil
}
