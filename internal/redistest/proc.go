package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"time"
)

// proc is a redis-server process started with arguments of its caller's
// choosing (a Server, a Cluster node, a Sentinel), reaped by its own goroutine
// so that an early exit is noticed while waiting for the port.
type proc struct {
	port   int
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has exited and been reaped
}

// spawn runs redis-server with args, adjusted by setup if it is not nil, and
// waits until it accepts connections on port, or fails if it exits first or
// does not open the port within 10s. It starts the process from the calling
// goroutine's thread (see sharedServer).
func spawn(setup func(*exec.Cmd), port int, args ...string) (*proc, error) {
	cmd := exec.Command("redis-server", args...)
	if setup != nil {
		setup(cmd)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	p := &proc{port: port, cmd: cmd, exited: make(chan struct{})}
	// Keep the last lines of output for the error of a server that dies early,
	// and drain the rest so the server never blocks on a full pipe.
	lastLine := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		last := ""
		for sc.Scan() {
			if sc.Text() != "" {
				last = sc.Text()
			}
		}
		lastLine <- last
	}()
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return p, nil
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("redis-server on port %d exited at start: %s", port, <-lastLine)
		default:
		}
		if time.Now().After(deadline) {
			p.kill()
			return nil, fmt.Errorf("redis-server on port %d did not open its port in 10s: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond) // polling a port that is not open yet
	}
}

// kill stops the process at once and waits until it is reaped.
func (p *proc) kill() {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// freePorts returns n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
