package server_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/ispwsclient"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

// syntheticJPEG makes a benign noisy pattern image of about size bytes.
func syntheticJPEG(tb testing.TB, size int) []byte {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	for side := 300; ; side += 40 {
		img := image.NewRGBA(image.Rect(0, 0, side, side))
		for y := range side {
			for x := range side {
				img.Set(x, y, color.RGBA{uint8(x ^ y), uint8(rng.IntN(256)), uint8(y * 3), 255})
			}
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
			tb.Fatal(err)
		}
		if b.Len() >= size {
			return b.Bytes()
		}
	}
}

const benchReport = `<?xml version="1.0" encoding="UTF-8"?>
<report xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="https://report.cybertip.org/ispws/xsd">
  <incidentSummary>
    <incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>
    <platform>Example Photos</platform>
    <incidentDateTime>2025-11-02T03:04:05Z</incidentDateTime>
  </incidentSummary>
  <internetDetails><webPageIncident><url>https://example.com/u/synthetic</url></webPageIncident></internetDetails>
  <reporter><reportingPerson><firstName>Trust</firstName><lastName>Safety</lastName><email>abuse@example.org</email></reportingPerson></reporter>
  <personOrUserReported><espIdentifier>user-1</espIdentifier><screenName>synthetic_user</screenName>
    <ipCaptureEvent><ipAddress>192.0.2.44</ipAddress><eventName>Upload</eventName><dateTime>2025-11-02T03:00:00Z</dateTime></ipCaptureEvent>
  </personOrUserReported>
</report>`

const benchFileinfo = `<fileDetails><reportId>%d</reportId><fileId>%s</fileId><fileName>synthetic.jpg</fileName>` +
	`<fileViewedByEsp>true</fileViewedByEsp><publiclyAvailable>false</publiclyAvailable></fileDetails>`

// BenchmarkESPIntake drives the ESP API as many concurrent ESP clients
// would, over real loopback connections: submit → upload (a 200 KB
// synthetic JPEG) → fileinfo → finish, with the job workers running. It
// reports complete reports per second, p50 and p99 latency per report,
// and the process's peak resident memory.
func BenchmarkESPIntake(b *testing.B) {
	for _, engine := range storetest.Engines() {
		b.Run(engine, func(b *testing.B) {
			env := haventest.StartWith(b, engine, haventest.Options{Workers: true, RealClock: true})
			const accounts, clients = 4, 16
			var cs []*ispwsclient.Client
			transport := &http.Transport{MaxIdleConnsPerHost: clients}
			for i := range accounts {
				u := env.NewUser(b, fmt.Sprintf("Bench ESP %d", i), haven.RoleESP, "")
				cs = append(cs, &ispwsclient.Client{BaseURL: env.HTTP.URL + "/ispws", Username: u.Login, Password: u.Password,
					HTTP: &http.Client{Transport: transport}})
			}
			img := syntheticJPEG(b, 200_000)
			ctx := context.Background()
			one := func(c *ispwsclient.Client) error {
				r, err := c.Submit(ctx, []byte(benchReport))
				if err != nil || r.Code != 0 {
					return fmt.Errorf("submit: %v %+v", err, r)
				}
				u, err := c.Upload(ctx, r.ReportID, "synthetic.jpg", bytes.NewReader(img))
				if err != nil || u.Code != 0 {
					return fmt.Errorf("upload: %v %+v", err, u)
				}
				fi, err := c.FileInfo(ctx, fmt.Appendf(nil, benchFileinfo, r.ReportID, u.FileID))
				if err != nil || fi.Code != 0 {
					return fmt.Errorf("fileinfo: %v %+v", err, fi)
				}
				f, err := c.Finish(ctx, r.ReportID, false)
				if err != nil || f.Code != 0 || len(f.FileIDs) != 1 {
					return fmt.Errorf("finish: %v %+v", err, f)
				}
				return nil
			}
			// Warm up the credential check of every account.
			for _, c := range cs {
				if err := one(c); err != nil {
					b.Fatal(err)
				}
			}
			var next atomic.Int64
			var errs atomic.Int64
			lat := make([][]time.Duration, clients)
			var firstErr error
			var once sync.Once
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for w := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := cs[w%accounts]
					for next.Add(1) <= int64(b.N) {
						t0 := time.Now()
						if err := one(c); err != nil {
							errs.Add(1)
							once.Do(func() { firstErr = err })
							continue
						}
						lat[w] = append(lat[w], time.Since(t0))
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if n := errs.Load(); n > 0 {
				b.Fatalf("%d of %d reports failed; first: %v", n, b.N, firstErr)
			}
			all := slices.Concat(lat...)
			slices.Sort(all)
			pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
			var ru syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "reports/s")
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB")
		})
	}
}
