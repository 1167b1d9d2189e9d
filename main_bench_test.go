//go:build linux

package main

// Whole-process benchmarks: they build cpikey and run it as a user would.
// Linux only (a pseudo-terminal from /dev/ptmx; peak RSS from rusage).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// cpikeyBinary builds cpikey into the benchmark's temporary directory.
func cpikeyBinary(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "cpikey")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	if out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// isolatedEnv is an environment with its own HOME and cache (the demo's
// state lives under the cache dir), no BTP variables and no keychain bus.
func isolatedEnv(home string) []string {
	return []string{"HOME=" + home, "XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "PATH=" + os.Getenv("PATH"), "TERM=xterm-256color"}
}

// BenchmarkProcessFirstFrame measures process start to the first rendered
// frame of the wizard, as a user sees it: cpikey runs on a pseudo-terminal
// of 80x24 that answers the terminal queries (background colour, cursor
// position) at once, and the clock stops when the first screen's text
// arrives. ui's BenchmarkStartupToFirstFrame is the in-process part of this
// (model, program, first View); the rest is process start, the terminal
// queries and Bubble Tea's frame tick (16.7 ms at its default 60 fps).
func BenchmarkProcessFirstFrame(b *testing.B) {
	bin := cpikeyBinary(b)
	for _, tc := range []struct {
		name string
		args []string
	}{{"wizard", nil}, {"demo", []string{"--demo"}}} {
		b.Run(tc.name, func(b *testing.B) {
			home := b.TempDir()
			var total time.Duration
			for b.Loop() {
				total += firstFrame(b, bin, tc.args, home)
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/frame")
		})
	}
}

var (
	ansiRE    = regexp.MustCompile(`\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78])`)
	altScreen = []byte("\x1b[?1049h")
)

func firstFrame(b *testing.B, bin string, args []string, home string) time.Duration {
	b.Helper()
	master, slave, err := openPTY(24, 80)
	if err != nil {
		b.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env = isolatedEnv(home)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		slave.Close()
		b.Fatal(err)
	}
	slave.Close()
	defer func() {
		cmd.Process.Kill() //nolint:errcheck // it is a benchmark child
		cmd.Wait()         //nolint:errcheck // killed
	}()
	chunks := make(chan []byte, 64)
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 64<<10)
			n, err := master.Read(buf)
			if n > 0 {
				chunks <- buf[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	var out []byte
	timeout := time.After(10 * time.Second)
	for {
		select {
		case c, ok := <-chunks:
			if !ok {
				b.Fatalf("cpikey ended before its first frame: %q", out)
			}
			out = append(out, c...)
			// Answer like a terminal: dark background, cursor at 1,1.
			if bytes.Contains(c, []byte("\x1b]11;?")) {
				master.Write([]byte("\x1b]11;rgb:0000/0000/0000\x1b\\")) //nolint:errcheck // best effort
			}
			if bytes.Contains(c, []byte("\x1b[6n")) {
				master.Write([]byte("\x1b[1;1R")) //nolint:errcheck // best effort
			}
			if i := bytes.Index(out, altScreen); i >= 0 {
				text := bytes.TrimSpace(ansiRE.ReplaceAll(out[i+len(altScreen):], nil))
				if len(text) >= 10 { // the first screen's title at least
					return time.Since(start)
				}
			}
		case <-timeout:
			b.Fatalf("no first frame after 10s: %q", out)
		}
	}
}

// openPTY opens a pseudo-terminal pair of rows x cols.
func openPTY(rows, cols uint16) (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	ioctl := func(f *os.File, req uintptr, arg unsafe.Pointer) error {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), req, uintptr(arg)); e != 0 {
			return e
		}
		return nil
	}
	var unlock int32
	var n uint32
	if err = ioctl(master, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err == nil {
		err = ioctl(master, syscall.TIOCGPTN, unsafe.Pointer(&n))
	}
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	ws := struct{ Row, Col, X, Y uint16 }{rows, cols, 0, 0}
	if err = ioctl(slave, syscall.TIOCSWINSZ, unsafe.Pointer(&ws)); err != nil {
		master.Close()
		slave.Close()
		return nil, nil, err
	}
	return master, slave, nil
}

// BenchmarkDemoRunRSS runs `cpikey --demo --yes --json --no-keychain` and
// reports the process's peak resident set (peak-RSS-MB, from rusage):
// "fresh" on a new demo state (entitles, creates instance and key: ~7 s of
// simulated SAP time), "rerun" on the state a fresh run left (reuses all).
func BenchmarkDemoRunRSS(b *testing.B) {
	bin := cpikeyBinary(b)
	root := b.TempDir()
	demoHome := "" // the HOME whose demo state the fresh run left, for the rerun
	b.Run("fresh", func(b *testing.B) {
		var peak int64
		for b.Loop() {
			home, err := os.MkdirTemp(root, "home-")
			if err != nil {
				b.Fatal(err)
			}
			demoHome = home
			r := demoRun(b, bin, home)
			if r.Instance.Reused {
				b.Fatal("fresh run reused an instance")
			}
			peak = max(peak, r.maxRSS)
		}
		b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
	})
	b.Run("rerun", func(b *testing.B) {
		home := demoHome
		if home == "" {
			b.StopTimer()
			home = root
			demoRun(b, bin, home)
			b.StartTimer()
		}
		var peak int64
		for b.Loop() {
			r := demoRun(b, bin, home)
			if !r.Instance.Reused || !r.Key.Reused {
				b.Fatal("rerun created something")
			}
			peak = max(peak, r.maxRSS)
		}
		b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
	})
}

type demoResult struct {
	Instance struct{ Reused bool } `json:"instance"`
	Key      struct{ Reused bool } `json:"key"`
	Verified bool                  `json:"verified"`
	maxRSS   int64                 // KiB
}

func demoRun(b *testing.B, bin, home string) demoResult {
	b.Helper()
	cmd := exec.Command(bin, "--demo", "--yes", "--json", "--no-keychain")
	cmd.Env = isolatedEnv(home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("cpikey --demo --yes: %v\n%s", err, stderr.String())
	}
	var r demoResult
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil || !r.Verified {
		b.Fatalf("unexpected result (%v): %s", err, stdout.String())
	}
	r.maxRSS = cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
	return r
}
