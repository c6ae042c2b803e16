// Package vpdqtest makes short synthetic test videos with ffmpeg (its
// testsrc2 and mandelbrot sources: patterns, never real footage).
package vpdqtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// NeedFFmpeg skips the test when ffmpeg is missing, or fails it in CI
// (CI=true), where ffmpeg is installed on purpose.
func NeedFFmpeg(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ffmpeg is required in CI (apt-get install ffmpeg): %v", err)
		}
		t.Skip("ffmpeg not installed: skipping video tests (install Debian's ffmpeg package to run them)")
	}
}

// Source is the reference clip: ten seconds of ffmpeg's testsrc2 pattern.
const Source = "testsrc2=size=320x240:rate=25:duration=10"

// Make runs ffmpeg with args (input options, filters and codec options)
// and returns the bytes of the output written to a file named name in a
// temporary directory; the extension of name picks the container.
func Make(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	NeedFFmpeg(t)
	out := filepath.Join(t.TempDir(), name)
	full := append([]string{"-v", "error", "-nostdin", "-y"}, args...)
	full = append(full, out)
	if msg, err := exec.Command("ffmpeg", full...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v: %s", args, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Reference returns the reference clip as Matroska/H.264.
func Reference(t testing.TB) []byte {
	return Make(t, "src.mkv", "-f", "lavfi", "-i", Source, "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18")
}

// Reencoded returns the reference clip smaller, in another codec at a low
// bit rate, as a plain MP4 with its moov atom at the end (which cannot be
// read from a pipe).
func Reencoded(t testing.TB) []byte {
	return Make(t, "reenc.mp4", "-f", "lavfi", "-i", Source, "-vf", "scale=240:180", "-c:v", "mpeg4", "-b:v", "150k")
}

// Trimmed returns seconds 3 to 7 of the reference clip as MPEG-TS.
func Trimmed(t testing.TB) []byte {
	return Make(t, "trim.ts", "-f", "lavfi", "-i", Source, "-ss", "3", "-t", "4", "-c:v", "libx264", "-preset", "ultrafast")
}

// Unrelated returns ten seconds of another source (mandelbrot), WebM.
func Unrelated(t testing.TB) []byte {
	return Make(t, "other.webm", "-f", "lavfi", "-i", "mandelbrot=size=320x240:rate=25", "-t", "10", "-c:v", "libvpx",
		"-deadline", "realtime", "-cpu-used", "8", "-b:v", "500k")
}
