package pdq

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func mustParse(t testing.TB, s string) Hash {
	t.Helper()
	h, err := ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestParseHash(t *testing.T) {
	const ref = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"
	for _, tc := range []struct {
		name, in string
		want     string // "" means an error is expected
	}{
		{"lower", ref, ref},
		{"upper", strings.ToUpper(ref), ref},
		{"mixed", "D8f8F0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22", ref},
		{"zero", strings.Repeat("0", 64), strings.Repeat("0", 64)},
		{"empty", "", ""},
		{"short", ref[:63], ""},
		{"long", ref + "0", ""},
		{"0x prefix", "0x" + ref[2:], ""},
		{"space", " " + ref[1:], ""},
		{"newline", ref[:63] + "\n", ""},
		{"non-hex", ref[:10] + "g" + ref[11:], ""},
		{"multibyte", ref[:62] + "é", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseHash(tc.in)
			if tc.want == "" {
				if err == nil || !errors.Is(err, ErrInvalidHash) {
					t.Fatalf("got %v, %v; want an ErrInvalidHash", h, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := h.String(); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestBitLayout pins the reference's layout: bit k = 16·i + j is DCT row i,
// column j; the text prints word 15 (row 15) first, each word as %04x.
func TestBitLayout(t *testing.T) {
	for _, tc := range []struct {
		k    int
		want string
	}{
		{0, strings.Repeat("0", 63) + "1"},           // row 0, col 0: last digit, LSB
		{3, strings.Repeat("0", 63) + "8"},           // row 0, col 3
		{4, strings.Repeat("0", 62) + "10"},          // row 0, col 4
		{15, strings.Repeat("0", 60) + "8000"},       // row 0, col 15: top of word 0
		{16, strings.Repeat("0", 59) + "1" + "0000"}, // row 1, col 0
		{255, "8" + strings.Repeat("0", 63)},         // row 15, col 15
		{240, "0001" + strings.Repeat("0", 60)},      // row 15, col 0
		{128, strings.Repeat("0", 31) + "1" + strings.Repeat("0", 32)},
	} {
		var h Hash
		h.setBit(tc.k)
		if got := h.String(); got != tc.want {
			t.Errorf("bit %d: got %s, want %s", tc.k, got, tc.want)
		}
		if !h.Bit(tc.k) || h.OnesCount() != 1 {
			t.Errorf("bit %d: Bit or OnesCount wrong", tc.k)
		}
	}
}

func TestDistance(t *testing.T) {
	a := mustParse(t, "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22")
	b := mustParse(t, "d8f8f0cee0f4a84f0637022a038f67f0b36e2ed596631e1d33e6339c4e9c9b22")
	var zero, ones Hash
	for i := range ones {
		ones[i] = 0xff
	}
	for _, tc := range []struct {
		name string
		a, b Hash
		want int
	}{
		{"same", a, a, 0},
		{"high-saturation", a, b, 2},
		{"zero-ones", zero, ones, 256},
		{"popcount", a, zero, 128},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
		if Distance(tc.a, tc.b) != Distance(tc.b, tc.a) {
			t.Errorf("%s: not symmetric", tc.name)
		}
	}
}

// TestDistanceIndexVectors recomputes every pair within distance 31 of the
// reference's MIH regression inputs and compares with the shared list.
func TestDistanceIndexVectors(t *testing.T) {
	dir := filepath.Join(refData(t), "index")
	needles, haystack := readHashes(t, filepath.Join(dir, "needles.txt")), readHashes(t, filepath.Join(dir, "haystack.txt"))
	var got []string
	for i, n := range needles {
		for j, h := range haystack {
			if d := Distance(n, h); d <= MatchThreshold {
				got = append(got, fmt.Sprintf("%d,%d,%d", i, j, d))
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "expected-matches-r31.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSpace(string(b)), "\n")[1:]
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %d pairs, want %d; they differ", len(got), len(want))
	}
}

func readHashes(t testing.TB, path string) []Hash {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var hs []Hash
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		hs = append(hs, mustParse(t, sc.Text()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return hs
}

// TestInt64s checks the int64 form against the reference's --int64 listing
// (pdq/sql/README.md).
func TestInt64s(t *testing.T) {
	for _, tc := range []struct {
		hex  string
		ints string
	}{
		{"0007001f003f003f007f00ff00ff00ff01ff01ff01ff03ff03ff03ff03ff03ff", // small.jpg
			"1970457985089599,35748417275625727,143835907860923391,287953294993589247"},
		{"f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22", // bridge-1, full resolution
			"-506390186751121329,447837829151548400,-5517420998596354531,3739874024492931874"},
		{"e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064", // c.png, full resolution
			"-1851883412434831230,-517366565115992180,-6982379065928243982,-5196839458248216476"},
	} {
		h := mustParse(t, tc.hex)
		var want [4]int64
		for i, s := range strings.Split(tc.ints, ",") {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			want[i] = v
		}
		if got := h.Int64s(); got != want {
			t.Errorf("%s: got %v, want %v", tc.hex, got, want)
		}
		if back := FromInt64s(want); back != h {
			t.Errorf("FromInt64s(%v) = %v, want %v", want, back, h)
		}
	}
}

func TestTextMarshal(t *testing.T) {
	h := mustParse(t, "1f811b9d267fbc6613c0c7f30e041f9df49b836303e10f067fcffc12c02d01f9")
	b, err := h.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	var back Hash
	if err := back.UnmarshalText(b); err != nil || back != h {
		t.Fatalf("round trip: %v, %v", back, err)
	}
	if err := back.UnmarshalText([]byte("zz")); !errors.Is(err, ErrInvalidHash) {
		t.Errorf("got %v, want ErrInvalidHash", err)
	}
}
