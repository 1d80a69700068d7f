package checksig

import "time"

// init starts the Go runtime's network poller (on Linux an epoll and an
// eventfd) when the package loads, rather than at the first timer a job's
// Poll arms. So the process's descriptors do not grow by two at some later
// call, which whoever counts them (the leak tests, a user) would take for a
// leak, and they exist before a worker copies the process's descriptor
// table into one of its own (fdtable_linux.go), which must hold them: the
// runtime may use them from any thread. A timer starts the poller: an
// AfterFunc timer joins the runtime's timer heap at once, and the heap needs
// the poller.
func init() { time.AfterFunc(time.Hour, func() {}).Stop() }
