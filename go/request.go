package checksig

// Kind selects what a job does.
type Kind int32

// Job kinds; values are part of the C ABI (CHECKSIG_JOB_*).
const (
	KindVerify Kind = 1 // check a manifest's entries under a root
	KindDigest Kind = 2 // hash a list of paths
	KindMake   Kind = 3 // hash every regular file under a root and write a manifest
)

// Request describes a job.
type Request struct {
	Kind    Kind
	Workers int // 0: one per CPU (runtime.NumCPU())
	// Algorithm is required for digest and make jobs. For verify jobs it
	// fixes the algorithm of untagged lines; None infers it from the
	// manifest's name or, failing that, from each digest's length.
	Algorithm Algorithm
	// Family (verify, with Algorithm None) is the family of the untagged
	// lines, each line's length picking the member: what GNU's cksum -a sha3
	// -c reads without -l.
	Family Family
	Strict bool // verify: the first malformed line fails the job
	Tag    bool // make: write BSD tag lines
	Base64 bool // make: write digests in base64, as cksum --base64 does
	// Extra (verify) adds a row with StatusExtra for every regular file
	// under the root that the manifest does not list.
	Extra bool
	// AllowOutside (verify) lets names reach outside the root: for
	// manifests the user trusts. FIFOs and devices are still never read.
	AllowOutside bool
	Root         string // verify, make; a ParseOnly job without Extra needs none
	// Manifest is the manifest a verify job reads (or, with ManifestText,
	// only its name in messages and for AlgorithmFromName) and the one a
	// make job writes.
	Manifest string
	Paths    []string // digest

	// ManifestText, when not nil, is the verify job's manifest itself, read
	// instead of a file: an empty, non-nil ManifestText is an empty
	// manifest. The job reads it until PhaseReady: it must not change before.
	ManifestText []byte
	// Resume (verify, from a manifest) starts the parse in the state an
	// earlier chunk of the same stream ended in (Job.ParseState): its line
	// numbering and its untagged line form. The zero value starts afresh.
	Resume ParseState
	// AllowEmpty (verify, from a manifest) makes a manifest without an
	// entry a job of zero rows instead of a ManifestError: a chunk of a
	// stream may hold only comments or malformed lines.
	AllowEmpty bool
	// Entries, when not nil, are the verify job's rows, given instead of a
	// manifest; Start copies them (see Entries).
	Entries *Entries
	// ParseOnly (verify) fills the columns from the manifest or entries
	// (names, algorithms, expected digests, lines; with Extra, the extra
	// rows too) and stops: no listed file is opened, every listed row stays
	// StatusPending with size -1.
	ParseOnly bool

	// Defer (verify) makes a scan pass of the job: every listed file is
	// opened, confined as always; those smaller than DeferMin are hashed
	// and get their final status, the others stay StatusPending with the
	// size their open found, for a later job over their entries (issue 17:
	// sharding by bytes of work needs the sizes, and a stat of its own
	// would open every small file twice). A row that fails to open gets its
	// status as ever. DeferMin 0 defers every file that opens: a pure
	// sizing pass.
	Defer    bool
	DeferMin int64
	// WalkDir and WalkFlat (verify, with Extra) walk one part of the root
	// for the extra files: the directory WalkDir beneath it (a clean
	// slash-separated relative name, whose bytes need not be UTF-8; "" is
	// the root itself), the whole of its subtree or, with WalkFlat, its own
	// files only; listed names outside that part are ignored. Disjoint
	// parts that cover the tree give, together, the extra rows of the whole
	// (issue 17: the walk in shards). A WalkDir that does not exist, or is
	// no directory, has no extra file; one leading out of the root is
	// refused.
	WalkDir  string
	WalkFlat bool
}
