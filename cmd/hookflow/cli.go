package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// errHelpShown is returned by parseFlags when --help printed a command's
// usage: run then returns nil, so that asking for help exits 0.
var errHelpShown = errors.New("help shown")

// cmdFlags is the flag set of one command with what its --help prints.
type cmdFlags struct {
	*flag.FlagSet
	// synopsis is the usage line: "hookflow backup [flags] FILE".
	synopsis string
	// about says what the command does, printed under the synopsis.
	about string
	// args is how many positional arguments the command takes: exactly
	// args, or any number when it is -1.
	args int
}

// parseFlags parses args with flags and positional arguments in any order
// (issue 15, point 9): `hookflow workflow export 3 --secrets` and
// `hookflow workflow export --secrets 3` are the same. The standard flag
// package stops at the first positional argument, so it is called again
// after each one. A "--" ends the flags: what follows is positional. With
// -h or --help it prints the command's usage and flags to stdout and
// returns errHelpShown.
func parseFlags(fs *cmdFlags, args []string, stdout io.Writer) ([]string, error) {
	// The flag package prints its own usage on an error; the error itself,
	// returned to main, is enough there.
	fs.Usage = func() {}
	var pos []string
	for {
		before := len(args)
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printUsage(fs, stdout)
				return nil, errHelpShown
			}
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if used := before - len(rest); used > 0 && args[used-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	switch {
	case fs.args == 0 && len(pos) > 0:
		return nil, fmt.Errorf("unexpected argument %q (usage: %s)", pos[0], fs.synopsis)
	case fs.args > 0 && len(pos) != fs.args:
		return nil, fmt.Errorf("usage: %s", fs.synopsis)
	}
	return pos, nil
}

// printUsage prints a command's synopsis, what it does and its flags.
func printUsage(fs *cmdFlags, w io.Writer) {
	fmt.Fprintf(w, "Usage: %s\n", fs.synopsis)
	if fs.about != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(fs.about))
	}
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprintf(w, "\nFlags:\n")
			first = false
		}
		// As flag.PrintDefaults, with the two dashes the documentation uses.
		name, help := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, strings.ReplaceAll(help, "\n", "\n    \t"))
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default %q)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}
