// Command pause is the sandbox ("pause") container of the local cluster's pods: it holds the
// pod's namespaces open, reaps the zombies that are reparented to it (it is PID 1 of the pod
// when the pod shares its process namespace), and exits 0 on SIGINT or SIGTERM. It behaves like
// Kubernetes' build/pause/linux/pause.c, written in Go so that it builds as a static binary from
// the Go toolchain alone (CGO_ENABLED=0), with no C compiler and no registry image.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is what `pause -v` prints; scripts/cluster/build-images.sh tags the image with it.
const version = "3.10-galion"

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "-v" || os.Args[1] == "--version") {
		fmt.Printf("pause.go %s\n", version)
		return
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "Warning: pause should be the first process")
	}

	signals := make(chan os.Signal, 16)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	// Children that exited before the handler was installed are reaped too.
	reap()
	for sig := range signals {
		if sig == syscall.SIGCHLD {
			reap()
			continue
		}
		fmt.Fprintf(os.Stderr, "Shutting down, got signal: %s\n", sig)
		os.Exit(0)
	}
}

// reap collects every child that has exited, without blocking. Signals coalesce, so one
// SIGCHLD may stand for several exits: loop until there is nothing left to wait for.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return // ECHILD (no children) or none exited yet
		}
	}
}
