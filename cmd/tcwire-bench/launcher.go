package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// A child's ru_maxrss counts the memory of the process that forked it
// (the kernel carries the parent's high-water mark across the vfork and
// exec), and the harness is large with its GC off. So `tcwire show` is
// measured through a launcher: this program re-executed small, which runs
// the command and reports the child's peak RSS on file descriptor 3.

const launcherEnv = "TCWIRE_BENCH_LAUNCHER"

// launcherMain runs os.Args[1:] and writes "MAXRSS_KB ELAPSED_NS" to fd
// 3; it returns the exit code.
func launcherMain() int {
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	// SIGTERM (the harness's time limit) kills the child, and its peak
	// memory is still reported.
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 127
	}
	go func() {
		<-term
		cmd.Process.Kill()
	}()
	err := cmd.Wait()
	el := time.Since(start)
	out := os.NewFile(3, "report")
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && out != nil {
		fmt.Fprintf(out, "%d %d\n", ru.Maxrss, el.Nanoseconds())
		out.Close()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return 127
	}
	return 0
}

// measured is a command's wall time and peak resident memory.
type measured struct {
	elapsed  time.Duration
	maxRSSKB int64
	timedOut bool
}

// launcherSelf is this program's path when it is tcwire-bench (not a test
// binary), or "".
func launcherSelf() string {
	exe, _ := os.Executable()
	if filepath.Base(exe) == "tcwire-bench" {
		return exe
	}
	return ""
}

// runMeasured runs name args with stdout to out, killed after limit.
// Through the launcher when this program is tcwire-bench; otherwise (a
// test binary) directly, and the peak RSS is then an upper bound.
func runMeasured(limit time.Duration, out *strings.Builder, name string, args ...string) (measured, error) {
	var m measured
	var cmd *exec.Cmd
	var report *os.File
	if exe := launcherSelf(); exe != "" {
		r, w, err := os.Pipe()
		if err != nil {
			return m, err
		}
		defer r.Close()
		cmd = exec.Command(exe, append([]string{name}, args...)...)
		cmd.Env = append(os.Environ(), launcherEnv+"=1")
		cmd.ExtraFiles = []*os.File{w}
		report = r
	} else {
		cmd = exec.Command(name, args...)
	}
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = out, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return m, err
	}
	if len(cmd.ExtraFiles) > 0 {
		cmd.ExtraFiles[0].Close()
	}
	var timedOut atomic.Bool
	timer := time.AfterFunc(limit, func() {
		timedOut.Store(true)
		if report != nil {
			cmd.Process.Signal(syscall.SIGTERM) // the launcher kills its child and reports
		} else {
			cmd.Process.Kill()
		}
	})
	err := cmd.Wait()
	timer.Stop()
	m.timedOut = timedOut.Load()
	m.elapsed = time.Since(start)
	if report != nil {
		b := make([]byte, 64)
		n, _ := report.Read(b)
		if f := strings.Fields(string(b[:n])); len(f) == 2 {
			m.maxRSSKB, _ = strconv.ParseInt(f[0], 10, 64)
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			m.elapsed = time.Duration(ns) // the child's, without the launcher's start-up
		}
	} else if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.maxRSSKB = ru.Maxrss
	}
	if m.timedOut {
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return m, nil
}
