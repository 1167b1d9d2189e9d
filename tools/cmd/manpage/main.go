// Command manpage writes cpikey's man page from the help the binary prints.
//
//	go run ./cmd/manpage -bin ../cpikey -version 1.2.0 -date 2026-12-06 -o cpikey.1
//
// It runs `cpikey --help` and `cpikey COMMAND --help` for each command that
// help lists, and converts the text to roff (man 1). It works with any help
// layout internal/manpage understands: Go's flag package and cobra.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/cpikey/cpikey/tools/internal/manpage"
)

func main() {
	bin := flag.String("bin", "", "the program whose help becomes the page (required)")
	name := flag.String("name", "cpikey", "the program's name, as the page and its help spell it")
	version := flag.String("version", "", "the version shown in the page footer (required)")
	date := flag.String("date", time.Now().UTC().Format("2006-01-02"), "the date in the page footer, YYYY-MM-DD")
	out := flag.String("o", "", "write the page to this file instead of stdout")
	flag.Parse()
	if *bin == "" || *version == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: manpage -bin PROGRAM -version VERSION [-date YYYY-MM-DD] [-name NAME] [-o FILE]")
		os.Exit(2)
	}
	if _, err := time.Parse("2006-01-02", *date); err != nil {
		fmt.Fprintf(os.Stderr, "manpage: -date %q is not YYYY-MM-DD\n", *date)
		os.Exit(2)
	}
	abs, err := filepath.Abs(*bin)
	if err != nil {
		fail(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root, cmds, err := manpage.Collect(ctx, abs, *name)
	if err != nil {
		fail(fmt.Errorf("reading the help of %s: %w", *bin, err))
	}
	page := manpage.Render(manpage.Meta{Name: *name, Version: *version, Date: *date}, root, cmds)
	if *out == "" {
		_, err = os.Stdout.Write(page)
	} else {
		err = os.WriteFile(*out, page, 0o644)
	}
	if err != nil {
		fail(err)
	}
	fmt.Fprintf(os.Stderr, "manpage: %s: %d commands\n", displayName(*out), len(cmds))
}

func displayName(out string) string {
	if out == "" {
		return "stdout"
	}
	return out
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "manpage:", err)
	os.Exit(1)
}
