package checksig

import "bytes"

// Inference tells how a verify job chose the algorithm of the manifest
// lines that no tag and no request decided, and how those lines fared:
// what a caller needs to warn of a manifest read with the wrong algorithm.
// The hazard it exists for (issue 18): a b3sum manifest holds lines of 64
// hex digits, like a sha256sum one, so read as SHA-256 every intact file
// "did NOT match"; the words "did NOT match" alone send users looking for
// corruption that is not there.
type Inference struct {
	// Algorithm is the algorithm most of those lines were read with (None:
	// every line had a tag, or the caller named the algorithm).
	Algorithm Algorithm
	// Source is SourceName or SourceLength: what chose Algorithm.
	Source Source
	// Rows are the lines read with Algorithm without a tag or request; OK
	// and Mismatch count those whose file matched, and did not.
	Rows, OK, Mismatch int64
	// Probed is the row whose file was hashed again with every other
	// algorithm of Algorithm's size, because none of the Rows matched and
	// one did not (the smallest such file, up to probeMaxSize); -1 if none
	// was.
	Probed int64
	// Match is the algorithm that gave the probed file the digest the
	// manifest lists: the manifest's real algorithm, almost surely. None if
	// no algorithm did (the files may be corrupt after all).
	Match Algorithm
}

// probeMaxSize bounds the file a job hashes again to find the algorithm a
// manifest really uses: SHA-3 at ~0.5 GB/s, a few algorithms of each size,
// so a fraction of a second at most. A variable for the tests.
var probeMaxSize int64 = 64 << 20

// infer fills j.inference once the workers are done (finish, verify jobs).
func (j *Job) infer() {
	var rows, ok, bad [numAlgorithms]int64
	c := j.cols
	for i := range j.rows {
		r := &j.rows[i]
		if !r.inferred {
			continue
		}
		rows[r.alg]++
		switch Status(c.Status[i]) {
		case StatusOK:
			ok[r.alg]++
		case StatusMismatch:
			bad[r.alg]++
		}
	}
	best := None
	for a := range rows {
		if rows[a] > rows[best] {
			best = Algorithm(a)
		}
	}
	inf := Inference{Probed: -1}
	if best != None {
		inf = Inference{Algorithm: best, Source: j.untagged, Rows: rows[best], OK: ok[best], Mismatch: bad[best], Probed: -1}
		if inf.OK == 0 && inf.Mismatch > 0 {
			inf.Probed, inf.Match = j.probe(best)
		}
	}
	j.mu.Lock()
	j.inference = inf
	j.mu.Unlock()
}

// probe hashes the smallest mismatched row read with a (inferred) with
// every other algorithm of a's size, and returns the row and the algorithm
// that gives the expected digest, if one does.
func (j *Job) probe(a Algorithm) (int64, Algorithm) {
	c, w := j.cols, j.width
	pick := -1
	for i := range j.rows {
		r := &j.rows[i]
		if r.inferred && r.alg == a && Status(c.Status[i]) == StatusMismatch &&
			c.Size[i] <= probeMaxSize && (pick < 0 || c.Size[i] < c.Size[pick]) {
			pick = i
		}
	}
	if pick < 0 {
		return -1, None
	}
	h := hasherPool.Get().(*hasher)
	defer hasherPool.Put(h)
	h.cancelled = &j.cancelled
	defer func() { h.cancelled = nil }()
	want := c.Expected[pick*w : pick*w+a.Size()]
	for _, b := range SameSize(a) {
		f, size, err := j.open.open(j.nameBytes(&j.rows[pick]))
		if err != nil {
			break
		}
		n, err := h.hashFile(f, size, b, h.sum[:b.Size()])
		f.Close()
		if err != nil || n != size {
			break
		}
		if bytes.Equal(h.sum[:b.Size()], want) {
			return int64(pick), b
		}
	}
	return int64(pick), None
}

// Inference returns what the job inferred (see Inference), once a verify
// job is done; before, and for other kinds of job, its Algorithm is None.
func (j *Job) Inference() Inference {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.phase != PhaseDone || j.req.Kind != KindVerify {
		return Inference{Probed: -1}
	}
	return j.inference
}
