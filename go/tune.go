package checksig

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// The engine's tuned constants, each chosen by measurement on some machine
// (benchmarks/README.md lists each decision, its figure and the machine),
// and each overridable for the A/B runs that re-check those decisions on
// another machine (benchmarks/ab.py, issue 22). The engine reads two
// environment variables once, when it loads:
//
//	CHECKSIG_IO=auto|read|mmap    how big files are read (io.go); a user setting
//	CHECKSIG_TUNE=name=value,...  the constants below, for benchmarks only
//
// Sizes in CHECKSIG_TUNE take a K, M, G or T suffix (powers of 1024). A name
// or value the engine does not accept is ignored and listed in EngineInfo.
// They are variables, not constants, also so that tests can change them;
// nothing changes them while a job runs.

// tunable is one overridable constant.
type tunable struct {
	name string
	v    *int64
	min  int64
	page bool // must be a multiple of the page size (a mapping's offset)
}

// defaultWorkers is the number of workers of a job that asks for 0: one per
// CPU the process may use. 0 here means runtime.NumCPU().
var defaultWorkers int64

// tunables lists every constant CHECKSIG_TUNE may set, by the name
// benchmarks/ab.py uses.
var tunables = []tunable{
	{name: "mmap_min", v: &mmapMin, min: 1},
	{name: "map_window", v: &mapWindow, min: 4096, page: true},
	{name: "tree_windows", v: &treeWindows, min: 1},
	{name: "blake3_kernel_min", v: &kernelMinSize, min: 0},
	{name: "blake3_read_below", v: &blake3ReadBelow, min: 0},
	{name: "buf_size", v: &bufSize, min: 4096},
	{name: "read_size", v: &readSize, min: 4096},
	{name: "queue_min", v: &queueMin, min: 1},
	{name: "private_table_min", v: &privateTableMin, min: 0},
	{name: "uring_min", v: &uringMin, min: 0},
	{name: "early_min", v: &earlyMin, min: 0},
	{name: "workers", v: &defaultWorkers, min: 0},
	{name: "readahead_chunk", v: &readAheadChunk, min: 4096},
	{name: "readahead_chunks", v: &readAheadChunks, min: 2},
	{name: "readahead_min", v: &readAheadMin, min: 0},
	{name: "mapahead_min", v: &mapAheadMin, min: 0},
	{name: "calibrate_samples", v: &calibrateSamples, min: 1},
	{name: "read_margin_pct", v: &readMarginPct, min: 0},
	{name: "fadvise", v: &fadvise, min: 0},
	{name: "openssl", v: &opensslMode, min: 0},
}

// tuneErrors holds what CHECKSIG_IO and CHECKSIG_TUNE said that the engine
// did not accept.
var tuneErrors []string

func init() {
	if s, ok := os.LookupEnv("CHECKSIG_IO"); ok {
		m, err := parseIOMode(s)
		if err != nil {
			tuneErrors = append(tuneErrors, err.Error())
		}
		ioMode = m
	}
	tuneErrors = append(tuneErrors, applyTuning(os.Getenv("CHECKSIG_TUNE"))...)
}

// applyTuning sets the tunables named in spec ("name=value,...") and
// returns what it refused.
func applyTuning(spec string) []string {
	var refused []string
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, value, _ := strings.Cut(item, "=")
		i := slices.IndexFunc(tunables, func(t tunable) bool { return t.name == strings.TrimSpace(name) })
		if i < 0 {
			refused = append(refused, fmt.Sprintf("CHECKSIG_TUNE: unknown name %q", name))
			continue
		}
		t := tunables[i]
		n, err := parseSize(strings.TrimSpace(value))
		if err == nil && n < t.min {
			err = fmt.Errorf("below %d", t.min)
		}
		if err == nil && t.page && n%int64(os.Getpagesize()) != 0 {
			err = fmt.Errorf("not a multiple of the page size (%d)", os.Getpagesize())
		}
		if err != nil {
			refused = append(refused, fmt.Sprintf("CHECKSIG_TUNE: %s=%s: %v", t.name, value, err))
			continue
		}
		*t.v = n
	}
	return refused
}

// parseSize reads a non-negative integer with an optional K, M, G or T
// suffix (powers of 1024).
func parseSize(s string) (int64, error) {
	mult := int64(1)
	if k := strings.IndexAny(s, "KMGTkmgt"); k >= 0 && k == len(s)-1 {
		mult = 1 << (10 * (strings.IndexByte("KMGT", byte(s[k]&^0x20)) + 1))
		s = s[:k]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("not a size")
	}
	return n * mult, nil
}

// workersFor returns the number of workers a request for n (0: the
// default) gets.
func workersFor(n int) int {
	if n > 0 {
		return n
	}
	if defaultWorkers > 0 {
		return int(defaultWorkers)
	}
	return runtime.NumCPU()
}

// EngineInfo is what CurrentEngineInfo reports: how big files are read and
// every tuned constant, for benchmarks and bug reports.
type EngineInfo struct {
	IO         IOChoice         `json:"io"`
	Hash       HashInfo         `json:"hash"`
	Tune       map[string]int64 `json:"tune"`
	Refused    []string         `json:"refused"`
	GOMAXPROCS int              `json:"gomaxprocs"`
	// TablesTaken counts the workers, since the engine loaded, that took a
	// descriptor table of their own; URingBatches the batches they read
	// through io_uring (0 where neither is possible).
	TablesTaken  int64 `json:"tables_taken"`
	URingBatches int64 `json:"uring_batches"`
}

// CurrentEngineInfo returns the engine's settings and choices now.
func CurrentEngineInfo() EngineInfo {
	info := EngineInfo{IO: CurrentIOChoice(), Hash: CurrentHashInfo(), Tune: map[string]int64{}, Refused: tuneErrors, GOMAXPROCS: runtime.GOMAXPROCS(0),
		TablesTaken: tablesTaken.Load(), URingBatches: uringBatches.Load()}
	for _, t := range tunables {
		info.Tune[t.name] = *t.v
	}
	if info.Tune["workers"] == 0 {
		info.Tune["workers"] = int64(workersFor(0))
	}
	if info.Refused == nil {
		info.Refused = []string{}
	}
	return info
}
