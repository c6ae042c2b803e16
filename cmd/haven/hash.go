package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/haven-hotline/haven/internal/pdq"
)

const hashUsage = "usage: haven hash [--dihedral] [--max-pixels N] FILE..."

// hashCmd prints the PDQ hash of image files in the output format of the
// reference tool pdq-photo-hasher: one "hash,quality,file" line per file.
// With --dihedral it prints, like pdq-photo-hasher --pdqdih-across, the
// eight dihedral hashes (original, rotate90, rotate180, rotate270, flipx,
// flipy, flipplus1, flipminus1), then quality and file, on one line. A file
// that cannot be read or decoded is reported on stderr and the others are
// still hashed; the command then exits with status 1. It needs no database.
func hashCmd(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("haven hash", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	dihedral := fs.Bool("dihedral", false, "print the eight dihedral hashes, then quality and file")
	maxPixels := fs.Int64("max-pixels", pdq.DefaultMaxPixels, "refuse images whose header declares more pixels")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, hashUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitError{code: 0}
		}
		return exitError{code: 2} // the flag package has printed the error and usage
	}
	files := fs.Args()
	if len(files) == 0 {
		return exitError{code: 2, msg: hashUsage}
	}
	opt := pdq.Options{Decode: pdq.DecodeOptions{MaxPixels: *maxPixels}}
	failed := 0
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := hashLine(name, opt, *dihedral)
		if err != nil {
			failed++
			fmt.Fprintf(e.stderr, "haven hash: %v\n", err)
			continue
		}
		fmt.Fprintln(e.stdout, line)
	}
	if failed > 0 {
		return exitError{code: 1, msg: fmt.Sprintf("haven hash: %d of %d files could not be hashed", failed, len(files))}
	}
	return nil
}

// hashLine hashes one file and formats its output line.
func hashLine(name string, opt pdq.Options, dihedral bool) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if !dihedral {
		h, q, err := pdq.HashReader(f, opt)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		return fmt.Sprintf("%v,%d,%s", h, q, name), nil
	}
	hs, q, err := pdq.HashReaderDihedral(f, opt)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	var b strings.Builder
	for _, h := range hs {
		b.WriteString(h.String())
		b.WriteByte(',')
	}
	fmt.Fprintf(&b, "%d,%s", q, name)
	return b.String(), nil
}
