package hashlist

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	haven "github.com/haven-hotline/haven"
)

func collect(seq iter.Seq2[Record, error]) (recs []Record, rerrs []*RecordError, fatal error) {
	for rec, err := range seq {
		if err != nil {
			var re *RecordError
			if errors.As(err, &re) {
				rerrs = append(rerrs, re)
				continue
			}
			if fatal != nil {
				panic("two fatal errors")
			}
			fatal = err
			continue
		}
		recs = append(recs, rec)
	}
	return
}

func rnd(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func h(r *rand.Rand, a haven.HashAlgo) Hash {
	n := a.DigestSize()
	if n == 0 {
		n = 1 + r.IntN(200)
	}
	return Hash{Algo: a, Value: rnd(r, n)}
}

func seqOf(recs []Record) iter.Seq[Record] { return slices.Values(recs) }

func TestRoundTripCSV(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var recs []Record
	for i := range 200 {
		rec := Record{ExternalID: fmt.Sprintf("x-%d", i), SeriesID: "série \"7\", a", Viral: i%2 == 0, PotentialMeme: i%3 == 0, MediaType: []string{"", "image", "video"}[i%3]}
		for j, a := range haven.HashAlgos {
			if (i>>j)&1 == 1 || j == 0 {
				rec.Hashes = append(rec.Hashes, h(r, a))
			}
		}
		if i%4 == 0 {
			rec.Classification = haven.Classification{Scheme: "industry", Code: "B1"}
		}
		if i%10 == 0 {
			rec.Deleted, rec.Hashes = true, nil
		}
		recs = append(recs, rec)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, seqOf(recs)); err != nil {
		t.Fatal(err)
	}
	got, rerrs, fatal := collect(ReadCSV(&buf, Options{}))
	if fatal != nil || len(rerrs) > 0 {
		t.Fatal(fatal, rerrs)
	}
	if !reflect.DeepEqual(got, recs) {
		t.Fatalf("round trip differs")
	}
}

func TestRoundTripNCMEC(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var recs []Record
	codes := []haven.Classification{{}, {Scheme: "industry", Code: "A2"}, {Scheme: "ncmec", Code: "X<&>"}}
	for i := range 100 {
		rec := Record{ExternalID: fmt.Sprintf("%d:%d", i%5, i), Classification: codes[i%3], MediaType: []string{"image", "video"}[i/7%2]}
		for _, a := range []haven.HashAlgo{haven.AlgoMD5, haven.AlgoSHA1, haven.AlgoPDQ} {
			if r.IntN(3) > 0 || a == haven.AlgoPDQ {
				rec.Hashes = append(rec.Hashes, h(r, a))
			}
		}
		if i%9 == 0 {
			rec.Deleted = true
			if i%2 == 0 {
				rec.Hashes = nil
			}
		}
		recs = append(recs, rec)
	}
	var buf bytes.Buffer
	if err := WriteNCMEC(&buf, seqOf(recs)); err != nil {
		t.Fatal(err)
	}
	got, rerrs, fatal := collect(ReadNCMEC(&buf, Options{}))
	if fatal != nil || len(rerrs) > 0 {
		t.Fatal(fatal, rerrs)
	}
	if !reflect.DeepEqual(got, recs) {
		t.Fatalf("round trip differs:\n%+v\n%+v", got[:3], recs[:3])
	}
}

func TestRoundTripVICS(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var recs []Record
	for i := range 100 {
		rec := Record{ExternalID: fmt.Sprint(i * 1000), SeriesID: "S-1"}
		if i%3 == 0 {
			rec.ExternalID = fmt.Sprintf("id-%d", i)
		}
		if i%5 > 0 {
			rec.Classification = haven.Classification{Scheme: "vics", Code: fmt.Sprint(i % 5 * 3)}
		}
		for _, a := range []haven.HashAlgo{haven.AlgoMD5, haven.AlgoSHA1, haven.AlgoSHA256, haven.AlgoPhotoDNA} {
			if r.IntN(2) > 0 || a == haven.AlgoMD5 {
				rec.Hashes = append(rec.Hashes, h(r, a))
			}
		}
		recs = append(recs, rec)
	}
	var buf bytes.Buffer
	if err := WriteVICS(&buf, seqOf(recs), Options{}); err != nil {
		t.Fatal(err)
	}
	got, rerrs, fatal := collect(ReadVICS(&buf, Options{}))
	if fatal != nil || len(rerrs) > 0 {
		t.Fatal(fatal, rerrs)
	}
	if !reflect.DeepEqual(got, recs) {
		t.Fatalf("round trip differs")
	}
	// A custom table maps categories both ways.
	table := map[int]haven.Classification{1: {Scheme: "industry", Code: "A1"}, 0: {}}
	buf.Reset()
	in := []Record{{ExternalID: "5", Classification: haven.Classification{Scheme: "industry", Code: "A1"}, Hashes: []Hash{h(r, haven.AlgoMD5)}}}
	if err := WriteVICS(&buf, seqOf(in), Options{VICSCategories: table}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"Category":1`) {
		t.Fatal(buf.String())
	}
	got, _, _ = collect(ReadVICS(&buf, Options{VICSCategories: table}))
	if !reflect.DeepEqual(got, in) {
		t.Fatal("custom table round trip differs")
	}
}

func TestSamples(t *testing.T) {
	open := func(name string) io.Reader {
		f, err := os.Open("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	recs, rerrs, fatal := collect(ReadCSV(open("sample.csv"), Options{}))
	if fatal != nil || len(rerrs) > 0 || len(recs) != 3 {
		t.Fatal(fatal, rerrs, len(recs))
	}
	if len(recs[0].Hashes) != 3 || recs[0].Classification.Code != "A1" || !recs[1].Viral || !recs[2].Deleted || recs[1].MediaType != "video" {
		t.Fatalf("%+v", recs)
	}
	recs, rerrs, fatal = collect(ReadNCMEC(open("sample_ncmec.xml"), Options{}))
	if fatal != nil || len(rerrs) > 0 || len(recs) != 5 {
		t.Fatal(fatal, rerrs, len(recs))
	}
	want := []struct {
		id, scheme, code, media string
		deleted                 bool
		hashes                  int
	}{
		{"42:123", "industry", "A1", "image", false, 3},
		{"42:124", "industry", "B2", "image", false, 1},
		{"7:900", "ncmec", "X9", "video", false, 2},
		{"42:99", "", "", "image", true, 0},
		{"7:98", "", "", "video", true, 0},
	}
	for i, w := range want {
		g := recs[i]
		if g.ExternalID != w.id || g.Classification.Scheme != w.scheme || g.Classification.Code != w.code || g.MediaType != w.media || g.Deleted != w.deleted || len(g.Hashes) != w.hashes {
			t.Errorf("ncmec %d: %+v", i, g)
		}
	}
	recs, rerrs, fatal = collect(ReadVICS(open("sample_vics.json"), Options{}))
	if fatal != nil || len(rerrs) > 0 || len(recs) != 3 {
		t.Fatal(fatal, rerrs, len(recs))
	}
	if recs[0].ExternalID != "1" || recs[0].Classification != (haven.Classification{Scheme: "vics", Code: "1"}) || recs[0].SeriesID != "S-100" ||
		recs[1].Classification != (haven.Classification{}) ||
		recs[2].ExternalID != "abc-3" || recs[2].Classification.Code != "7" || len(recs[2].Hashes) != 2 || len(recs[2].Hashes[1].Value) != 144 {
		t.Fatalf("%+v", recs)
	}
}

const (
	md5a  = "0123456789abcdef0123456789abcdef"
	sha1a = "0123456789abcdef0123456789abcdef01234567"
	pdqa  = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

// badCase is a document whose bad records must be rejected at the given
// lines while the good ones (good of them) come through.
type badCase struct {
	name  string
	doc   string
	lines []int
	good  int
}

func runBad(t *testing.T, read func(io.Reader, Options) iter.Seq2[Record, error], cases []badCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			recs, rerrs, fatal := collect(read(strings.NewReader(c.doc), Options{}))
			if fatal != nil {
				t.Fatalf("fatal: %v", fatal)
			}
			var lines []int
			for _, e := range rerrs {
				lines = append(lines, e.Line)
			}
			if !slices.Equal(lines, c.lines) || len(recs) != c.good {
				t.Fatalf("rejected lines %v (%v), want %v; good %d, want %d", lines, rerrs, c.lines, len(recs), c.good)
			}
		})
	}
}

func TestBadCSV(t *testing.T) {
	head := "md5,sha1,pdq,viral,external_id,deleted,classification_scheme,classification_code\n"
	good := md5a + ",,,,g,,,\n"
	cases := []badCase{
		{"bad hex", head + good + "zz23456789abcdef0123456789abcdef,,,,,,,\n" + good, []int{3}, 2},
		{"wrong length", head + good + good + ",0123,,,,,,\n" + good, []int{4}, 3},
		{"pdq length", head + ",," + pdqa + "0\n" + good, []int{2}, 1},
		{"bad boolean", head + md5a + ",,,maybe,,,,\n" + good, []int{2}, 1},
		{"field count", head + md5a + ",,\n" + good, []int{2}, 1},
		{"no hash", head + ",,,,x,,,\n" + good, []int{2}, 1},
		{"deletion without id", head + ",,,,,true,,\n" + good, []int{2}, 1},
		{"half classification", head + md5a + ",,,,,,industry,\n" + good, []int{2}, 1},
		{"too long", head + md5a + ",,,,," + ",," + strings.Repeat("x", 201) + "\n" + good, []int{2}, 1},
		{"bad quote", head + md5a + ",\"a\"b,,,,,,\n" + good, []int{2}, 1},
		{"multi-line field", head + md5a + ",,,,\"a\nb\",,,\n" + good + "zz,,,,,,,\n", []int{2, 5}, 1},
	}
	runBad(t, ReadCSV, cases)

	for name, doc := range map[string]string{
		"unknown column": "md5,colour\n" + md5a + ",red\n",
		"duplicate":      "md5,MD5\n",
		"empty":          "",
		"no hash column": "viral\n",
	} {
		recs, _, fatal := collect(ReadCSV(strings.NewReader(doc), Options{}))
		if fatal == nil || len(recs) > 0 {
			t.Errorf("%s: want a fatal error", name)
		}
	}
}

func TestBadNCMEC(t *testing.T) {
	entry := func(member, id, class, fp string) string {
		return "<image><member id=\"" + member + "\"/><id>" + id + "</id><classification>" + class + "</classification><fingerprints>" + fp + "</fingerprints></image>\n"
	}
	good := entry("1", "2", "A1", "<md5>"+md5a+"</md5>")
	doc := func(body ...string) string {
		return "<?xml version=\"1.0\"?>\n<queryResult>\n<images>\n" + strings.Join(body, "") + "</images>\n</queryResult>\n"
	}
	cases := []badCase{
		{"bad hex", doc(good, entry("1", "3", "", "<md5>"+strings.Repeat("g", 32)+"</md5>"), good), []int{5}, 2},
		{"wrong length", doc(good, good, entry("1", "3", "", "<sha1>"+md5a+"</sha1>")), []int{6}, 2},
		{"missing id", doc(entry("1", "", "", "<md5>"+md5a+"</md5>"), good), []int{4}, 1},
		{"missing member", doc(good, entry("", "3", "", "<md5>"+md5a+"</md5>")), []int{5}, 1},
		{"no hash", doc(entry("1", "3", "", ""), good), []int{4}, 1},
		{"two md5", doc(entry("1", "3", "", "<md5>"+md5a+"</md5><md5>"+md5a+"</md5>"), good), []int{4}, 1},
		{"long code", doc(entry("1", "3", strings.Repeat("c", 201), "<md5>"+md5a+"</md5>"), good), []int{4}, 1},
	}
	runBad(t, ReadNCMEC, cases)

	for name, d := range map[string]string{
		"doctype":      "<?xml version=\"1.0\"?><!DOCTYPE q [<!ENTITY a \"b\">]><queryResult/>",
		"entity":       "<queryResult><images>" + entry("1", "&a;", "", "") + "</images></queryResult>",
		"broken":       "<queryResult><images>" + good + "</queryResult>",
		"wrong root":   "<other/>",
		"unterminated": "<queryResult><images>",
		"huge":         doc(entry("1", "2", "", strings.Repeat("<x>", 1<<20))),
	} {
		_, _, fatal := collect(ReadNCMEC(strings.NewReader(d), Options{MaxElementBytes: 64 << 10}))
		if fatal == nil {
			t.Errorf("%s: want a fatal error", name)
		}
	}
}

func TestBadVICS(t *testing.T) {
	doc := func(body ...string) string {
		return "{\"odata.metadata\": \"x\",\n \"value\": [\n" + strings.Join(body, ",\n") + "\n]}\n"
	}
	good := `{"MediaID": 1, "MD5": "` + md5a + `", "Category": 1}`
	cases := []badCase{
		{"bad hex", doc(good, `{"MediaID": 2, "MD5": "`+strings.Repeat("z", 32)+`"}`, good), []int{4}, 2},
		{"wrong length", doc(good, good, `{"MediaID": 2, "SHA1": "`+md5a+`"}`), []int{5}, 2},
		{"missing id", doc(`{"MD5": "`+md5a+`"}`, good), []int{3}, 1},
		{"fractional id", doc(`{"MediaID": 1.5, "MD5": "`+md5a+`"}`, good), []int{3}, 1},
		{"bad category", doc(`{"MediaID": 1, "MD5": "`+md5a+`", "Category": "x"}`, good), []int{3}, 1},
		{"wrong type", doc(`{"MediaID": 1, "MD5": 5}`, good), []int{3}, 1},
		{"bad photodna", doc(`{"MediaID": 1, "PhotoDNA": "!!"}`, good), []int{3}, 1},
		{"not object", doc(`[1]`, good), []int{3}, 1},
		{"multi-line", doc("{\"MediaID\": 1,\n\"MD5\": \"x\"}", good, good), []int{3}, 2},
	}
	runBad(t, ReadVICS, cases)
	for name, d := range map[string]string{
		"broken":   doc(good, `{"MediaID": `),
		"no value": `{"other": []}`,
		"array":    `[]`,
		"trailing": doc(good) + "{}",
		"huge":     doc(`{"MediaID": 1, "Series": "` + strings.Repeat("a", 1<<20) + `"}`),
	} {
		_, _, fatal := collect(ReadVICS(strings.NewReader(d), Options{MaxElementBytes: 64 << 10}))
		if fatal == nil {
			t.Errorf("%s: want a fatal error", name)
		}
	}
}

func TestCaps(t *testing.T) {
	head := "md5\n"
	doc := head + strings.Repeat(md5a+"\n", 10)
	recs, _, fatal := collect(ReadCSV(strings.NewReader(doc), Options{MaxRecords: 5}))
	if len(recs) != 5 || !isTooLarge(fatal) {
		t.Fatal(len(recs), fatal)
	}
	recs, _, fatal = collect(ReadCSV(strings.NewReader(doc+strings.Repeat("a", 200<<10)), Options{MaxElementBytes: 100 << 10}))
	if len(recs) != 10 || !isTooLarge(fatal) {
		t.Fatal(len(recs), fatal)
	}
	recs, _, fatal = collect(ReadCSV(strings.NewReader(doc), Options{MaxBytes: 100}))
	if len(recs) == 10 || fatal == nil {
		t.Fatal(len(recs), fatal)
	}
	// Stopping early works.
	for range ReadCSV(strings.NewReader(doc), Options{}) {
		break
	}
}

func TestWriterRefuses(t *testing.T) {
	md5 := Hash{Algo: haven.AlgoMD5, Value: make([]byte, 16)}
	vpdq := Hash{Algo: haven.AlgoVPDQ, Value: []byte{1}}
	cases := []struct {
		name string
		rec  Record
		csv  bool
		xml  bool
		json bool
	}{
		{"bad md5", Record{Hashes: []Hash{{Algo: haven.AlgoMD5, Value: []byte{1}}}, ExternalID: "1:1"}, false, false, false},
		{"vpdq", Record{Hashes: []Hash{vpdq}, ExternalID: "1"}, true, false, false},
		{"no colon", Record{Hashes: []Hash{md5}, ExternalID: "1"}, true, false, true},
		{"deleted", Record{Hashes: []Hash{md5}, ExternalID: "1:1", Deleted: true}, true, true, false},
		{"scheme", Record{Hashes: []Hash{md5}, ExternalID: "1:1", Classification: haven.Classification{Scheme: "own", Code: "x"}}, true, false, false},
		{"industry as ncmec", Record{Hashes: []Hash{md5}, ExternalID: "1:1", Classification: haven.Classification{Scheme: "ncmec", Code: "A1"}}, true, false, false},
		{"control char", Record{Hashes: []Hash{md5}, ExternalID: "1:\n1"}, false, false, false},
	}
	for _, c := range cases {
		s := seqOf([]Record{c.rec})
		if got := WriteCSV(io.Discard, s) == nil; got != c.csv {
			t.Errorf("%s csv: ok=%v", c.name, got)
		}
		if got := WriteNCMEC(io.Discard, s) == nil; got != c.xml {
			t.Errorf("%s xml: ok=%v", c.name, got)
		}
		if got := WriteVICS(io.Discard, s, Options{}) == nil; got != c.json {
			t.Errorf("%s json: ok=%v", c.name, got)
		}
	}
}

// TestCSVMillionBoundedMemory streams a generated 1,000,000-row CSV through
// the reader and checks the heap stays small.
func TestCSVMillionBoundedMemory(t *testing.T) {
	const n = 1_000_000
	if testing.Short() {
		t.Skip("long")
	}
	pr, pw := io.Pipe()
	go func() {
		r := rand.New(rand.NewPCG(7, 8))
		bw := make([]byte, 0, 64<<10)
		bw = append(bw, "external_id,md5,sha1,pdq,classification_scheme,classification_code,viral\n"...)
		const hexd = "0123456789abcdef"
		appendHex := func(b []byte, n int) []byte {
			for range n {
				x := r.Uint32()
				b = append(b, hexd[x&15], hexd[x>>4&15])
			}
			return b
		}
		for i := range n {
			bw = fmt.Appendf(bw, "%d,", i)
			bw = appendHex(bw, 16)
			bw = append(bw, ',')
			bw = appendHex(bw, 20)
			bw = append(bw, ',')
			bw = appendHex(bw, 32)
			bw = append(bw, ",industry,A1,false\n"...)
			if len(bw) > 60<<10 {
				if _, err := pw.Write(bw); err != nil {
					return
				}
				bw = bw[:0]
			}
		}
		pw.Write(bw)
		pw.Close()
	}()
	runtime.GC()
	start := time.Now()
	var ms runtime.MemStats
	var peak uint64
	count := 0
	for rec, err := range ReadCSV(pr, Options{}) {
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Hashes) != 3 {
			t.Fatal("hashes")
		}
		count++
		if count%100_000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if count != n {
		t.Fatalf("read %d records, want %d", count, n)
	}
	t.Logf("%d records in %v, peak heap %.1f MB", count, time.Since(start), float64(peak)/1e6)
	if peak > 50<<20 {
		t.Fatalf("heap reached %d bytes", peak)
	}
}
