/*
 * checksig.h - the whole C ABI of the checksig engine.
 *
 * This header is the contract between the Go engine (go/capi, built with
 * `go build -buildmode=c-shared`) and its one caller, checksig/_native.py,
 * which declares every function below with ctypes. Keep the two in sync;
 * change CHECKSIG_ABI_VERSION whenever a struct layout, a constant or a
 * signature changes. Python refuses a library whose version differs.
 *
 * Rules that hold for every function:
 *   - C types only. Every byte string is a pointer plus its length; it need
 *     not be NUL terminated, and an embedded NUL is rejected (CHECKSIG_E_INVALID).
 *   - Every function returns an int32 status (CHECKSIG_OK or CHECKSIG_E_*).
 *     Functions that can fail take a caller-owned checksig_error*; on failure
 *     Go fills it and its message and path are malloc'd by Go: the caller
 *     releases them with checksig_error_clear (or checksig_free each one).
 *   - Every export recovers from Go panics and reports CHECKSIG_E_PANIC with
 *     the panic text, so a bug in the engine never kills the calling process.
 *   - Nothing calls back into the caller. Long work is a job: start it, poll
 *     it in short waits (the caller stays responsive to Ctrl-C between
 *     polls), cancel it, free it.
 *   - Pointer parameters are read-only unless documented otherwise; the
 *     prototypes carry no `const` only because cgo cannot declare it.
 *   - Buffers are caller-owned: the caller allocates the result columns
 *     (in Python, one anonymous mmap that numpy later views without a copy)
 *     once the job says how big they must be, and the engine writes results
 *     straight into them.
 */
#ifndef CHECKSIG_H
#define CHECKSIG_H

#include <stdint.h>

#define CHECKSIG_ABI_VERSION 6  /* 2: entries, manifest text, parse-only, parse state;
                                   3: CHECKSIG_ST_NOT_CHECKED, entries of algorithm NONE;
                                   4: sha3, blake2b-N, blake2s, blake3, git-sha1, family,
                                      F_BASE64, checksig_job_inference, file_digest length;
                                   5: deferring scans (F_DEFER, defer_min), walks of a part
                                      of the tree (walk_dir, F_WALK_FLAT);
                                   6: CHECKSIG_P_IO, CHECKSIG_IO_*, checksig_engine_info */

/* Status codes. Python maps each to an exception type. */
#define CHECKSIG_OK             0
#define CHECKSIG_E_INVALID      1  /* bad argument: ValueError */
#define CHECKSIG_E_NOT_FOUND    2  /* FileNotFoundError */
#define CHECKSIG_E_PERMISSION   3  /* PermissionError */
#define CHECKSIG_E_IS_DIR       4  /* IsADirectoryError */
#define CHECKSIG_E_NOT_REGULAR  5  /* FIFO, device, socket: OSError, never read */
#define CHECKSIG_E_OS           6  /* other OS error: OSError(errnum) */
#define CHECKSIG_E_MANIFEST     7  /* unusable manifest: ManifestError(path, line) */
#define CHECKSIG_E_CANCELLED    8  /* the job was cancelled */
#define CHECKSIG_E_HANDLE       9  /* unknown job handle or call in the wrong phase */
#define CHECKSIG_E_PANIC       10  /* a bug in the engine: the panic text */

/* Algorithms, by index. Names are hashlib's where hashlib has the algorithm.
 * Indices are never reused; 14 to 63 are unused. Digest sizes in bytes:
 * md5 16, sha1 20, sha224 28, sha256 32, sha384 48, sha512 64,
 * sha3_224 28, sha3_256 32, sha3_384 48, sha3_512 64, blake2s 32,
 * blake3 32, git-sha1 20, blake2b-N N/8. */
#define CHECKSIG_ALG_NONE     0
#define CHECKSIG_ALG_MD5      1
#define CHECKSIG_ALG_SHA1     2
#define CHECKSIG_ALG_SHA224   3
#define CHECKSIG_ALG_SHA256   4
#define CHECKSIG_ALG_SHA384   5
#define CHECKSIG_ALG_SHA512   6
#define CHECKSIG_ALG_SHA3_224 7
#define CHECKSIG_ALG_SHA3_256 8
#define CHECKSIG_ALG_SHA3_384 9
#define CHECKSIG_ALG_SHA3_512 10
#define CHECKSIG_ALG_BLAKE2S  11  /* BLAKE2s-256 */
#define CHECKSIG_ALG_BLAKE3   12  /* 32 bytes; checksig_file_digest makes longer outputs */
#define CHECKSIG_ALG_GIT_SHA1 13  /* git-sha1: SHA-1 of "blob SIZE\0" + content (git hash-object) */
/* BLAKE2b with an N-bit digest, N a multiple of 8 from 8 to 512 (b2sum -l N,
 * named blake2b-N): CHECKSIG_ALG_BLAKE2B_BASE + N/8, so 64 to 127. */
#define CHECKSIG_ALG_BLAKE2B_BASE 63
#define CHECKSIG_ALG_BLAKE2B  127  /* BLAKE2b-512: hashlib's blake2b, b2sum's default */
#define CHECKSIG_ALG_COUNT    128  /* every index is below this */

/* Families of algorithms told apart by digest length (checksig_request.family):
 * what `cksum -a sha2 -c`, `-a sha3` and `-a blake2b` read without -l. */
#define CHECKSIG_FAMILY_NONE    0
#define CHECKSIG_FAMILY_SHA2    1  /* sha224, sha256, sha384, sha512 */
#define CHECKSIG_FAMILY_SHA3    2  /* sha3_224 to sha3_512 */
#define CHECKSIG_FAMILY_BLAKE2B 3  /* blake2b-8 to blake2b (512) */

/* What decided a manifest line's algorithm (checksig_job_inference). */
#define CHECKSIG_SRC_NONE    0
#define CHECKSIG_SRC_TAG     1  /* the line's BSD tag */
#define CHECKSIG_SRC_REQUEST 2  /* the request's algorithm */
#define CHECKSIG_SRC_NAME    3  /* the manifest's file name (SHA256SUMS, b3sums.txt) */
#define CHECKSIG_SRC_LENGTH  4  /* the digest's length alone */

/* Row status, one per result row (the report's status column). */
#define CHECKSIG_ST_PENDING      0  /* not reached (job cancelled or failed) */
#define CHECKSIG_ST_OK           1
#define CHECKSIG_ST_MISMATCH     2
#define CHECKSIG_ST_MISSING      3
#define CHECKSIG_ST_UNREADABLE   4  /* errnum says why */
#define CHECKSIG_ST_NOT_REGULAR  5  /* directory, FIFO, socket, device */
#define CHECKSIG_ST_OUTSIDE_ROOT 6  /* .., absolute, or a symlink leading out */
#define CHECKSIG_ST_EXTRA        7  /* under root but not in the manifest (F_EXTRA) */
#define CHECKSIG_ST_CHANGED      8  /* size changed while it was read: size holds bytes read */
#define CHECKSIG_ST_NOT_CHECKED  9  /* an entry given with algorithm NONE (F_ENTRIES): listed,
                                       never opened (a RECORD line without a hash, ...) */

/* Job kinds. */
#define CHECKSIG_JOB_VERIFY 1  /* check every entry of a manifest (or of entries) under root */
#define CHECKSIG_JOB_DIGEST 2  /* hash a list of paths (not confined) */
#define CHECKSIG_JOB_MAKE   3  /* walk root, hash every regular file, write a manifest */

/* Request flags. */
#define CHECKSIG_F_STRICT    0x1  /* verify: a malformed manifest line fails the job */
#define CHECKSIG_F_TAG       0x2  /* make: write BSD tag lines (SHA256 (name) = hex) */
#define CHECKSIG_F_EXTRA     0x4  /* verify: add a row for every regular file under root
                                     the manifest does not list (status EXTRA) */
#define CHECKSIG_F_ALLOW_OUTSIDE 0x8 /* verify: follow names out of root (trusted manifests) */
#define CHECKSIG_F_ENTRIES     0x10 /* verify: the rows are given in memory (entry_* fields
                                       and paths, offsets, n_paths), not read from a manifest */
#define CHECKSIG_F_TEXT        0x20 /* verify: the manifest is manifest_text, not a file;
                                       manifest then only names it in messages */
#define CHECKSIG_F_PARSE_ONLY  0x40 /* verify: fill the columns and stop; no listed file is
                                       opened, listed rows stay PENDING with size -1 */
#define CHECKSIG_F_ALLOW_EMPTY 0x80 /* verify: a manifest without an entry gives zero rows,
                                       not CHECKSIG_E_MANIFEST (a chunk of a stream) */
#define CHECKSIG_F_BASE64    0x100 /* make: digests in base64, as cksum --base64 writes them */
#define CHECKSIG_F_DEFER     0x200 /* verify: a scan pass: every listed file is opened, those
                                       under defer_min bytes are hashed, the others stay PENDING
                                       with the size their open found (defer_min 0: size all) */
#define CHECKSIG_F_WALK_FLAT 0x400 /* verify, F_EXTRA: walk walk_dir's own files only */

/* Untagged line forms (checksig_request.form, checksig_job_parse_state): the
 * first accepted untagged line decides the form of every later one, GNU's
 * rule, which a stream cut into chunks carries from chunk to chunk. */
#define CHECKSIG_FORM_UNDECIDED 0  /* no untagged line accepted yet: a fresh manifest */
#define CHECKSIG_FORM_STANDARD  1  /* "HEX  name" or "HEX *name" */
#define CHECKSIG_FORM_ONE_SPACE 2  /* "HEX name" (BSD md5 -r): "HEX  b" names " b" */

/* The longest manifest line, with its line ending, the engine reads; a
 * longer one is a warning ("line longer than 65536 bytes") or, if it starts
 * with '#', a comment. A caller cutting a stream into chunks need not hold
 * such a line: its first CHECKSIG_MAX_LINE_LEN bytes followed by '\n' give
 * the same verdict. */
#define CHECKSIG_MAX_LINE_LEN 65536

/* Job phases (progress[0]). */
#define CHECKSIG_PH_ENUMERATING 1  /* parsing the manifest or walking the tree */
#define CHECKSIG_PH_READY       2  /* rows known; waiting for checksig_job_attach */
#define CHECKSIG_PH_RUNNING     3  /* workers hashing */
#define CHECKSIG_PH_DONE        4  /* finished; checksig_job_result says how */

/* Indices into the progress array filled by checksig_job_poll: the one
 * table of the counters. capi/main.go fills each by its name, and Python
 * (_native.PROGRESS_FIELDS) reads each by its name; each name is the Go
 * Progress field's (P_FILES_DONE: FilesDone). */
#define CHECKSIG_P_PHASE        0
#define CHECKSIG_P_FILES_DONE   1
#define CHECKSIG_P_FILES_TOTAL  2
#define CHECKSIG_P_BYTES_DONE   3
#define CHECKSIG_P_BYTES_TOTAL  4  /* -1 until known */
#define CHECKSIG_P_ROWS         5  /* rows to allocate, valid from PH_READY */
#define CHECKSIG_P_DIGEST_WIDTH 6  /* bytes per digest cell, valid from PH_READY */
#define CHECKSIG_P_PATHS_LEN    7  /* bytes of the path blob, valid from PH_READY */
#define CHECKSIG_P_WARNINGS     8  /* malformed manifest lines so far */
#define CHECKSIG_P_IO           9  /* CHECKSIG_IO_* bits: how big files were read so far */
#define CHECKSIG_P_LEN         10

/* How a job read and hashed its big files (files of mmap_min bytes or more,
 * 512 KiB unless tuned; smaller ones are always read into a buffer): bits of
 * progress[CHECKSIG_P_IO], 0 while it has read none. The environment
 * variable CHECKSIG_IO=read or =mmap, read when the library loads, forces a
 * path; auto (the default) times the first big files of the process both
 * ways, on the thread's CPU clock, and keeps the cheaper path for the rest
 * of the process (checksig_engine_info says which). */
#define CHECKSIG_IO_READ      0x1  /* read(2) into the hashing thread's buffer */
#define CHECKSIG_IO_MMAP      0x2  /* mapped, a window at a time */
#define CHECKSIG_IO_READAHEAD 0x4  /* read(2) on one core, hashed on another (an idle one) */
#define CHECKSIG_IO_CALIBRATE 0x8  /* some windows were timed to choose READ or MMAP */
#define CHECKSIG_IO_OPENSSL   0x10 /* hashed by the libcrypto the process had loaded (in
                                      CPython: hashlib's), where it is faster than Go's code */
#define CHECKSIG_IO_MAPAHEAD  0x20 /* mapped, each window's pages made present (and the windows
                                      unmapped) on another core, an idle one, ahead of the hash */

/* Indices into the array checksig_job_inference fills: how a verify job chose
 * the algorithm of the lines no tag and no request decided, and how those
 * lines fared. A b3sum manifest (64 hex digits a line) read as sha256 fails
 * every line: ROWS > 0, OK == 0 and MISMATCH > 0 say so, and MATCH names the
 * algorithm that matched when the engine hashed one such file again with
 * every other algorithm of the same digest size. */
#define CHECKSIG_I_ALGORITHM 0  /* CHECKSIG_ALG_* of most such lines; NONE if none */
#define CHECKSIG_I_SOURCE    1  /* CHECKSIG_SRC_NAME or CHECKSIG_SRC_LENGTH */
#define CHECKSIG_I_ROWS      2  /* such lines read with I_ALGORITHM */
#define CHECKSIG_I_OK        3  /* of those, files that matched */
#define CHECKSIG_I_MISMATCH  4  /* of those, files that did not */
#define CHECKSIG_I_PROBED    5  /* the row hashed again (smallest mismatch, <= 64 MiB), -1 none */
#define CHECKSIG_I_MATCH     6  /* CHECKSIG_ALG_* that gave it the listed digest; NONE if none */
#define CHECKSIG_I_LEN       7

typedef struct {
    int32_t code;      /* CHECKSIG_E_* */
    int32_t errnum;    /* the OS errno when known, else 0 */
    int64_t line;      /* 1-based manifest line, 0 when none */
    char   *message;   /* malloc'd by Go, NUL terminated, UTF-8 */
    char   *path;      /* malloc'd by Go, the file concerned, or NULL */
    int64_t path_len;  /* bytes in path (it may hold any byte but NUL) */
} checksig_error;

/* A job's request. Every buffer belongs to the caller and is read (copied
 * where the job needs it later) during checksig_job_start only: the caller
 * may free or reuse all of them as soon as it returns. Fields a job does
 * not use must be zero.
 *
 * A verify job reads its rows from one of three inputs:
 *   - a manifest file: manifest names it (the default);
 *   - manifest text (F_TEXT): manifest_text holds the manifest's bytes,
 *     manifest names it in messages and, as for a file, implies its
 *     algorithm when algorithm is NONE (sha256sum.txt; "standard input"
 *     implies none). first_line and form continue an earlier chunk of the
 *     same stream (checksig_job_parse_state); zero for a whole manifest.
 *   - entries (F_ENTRIES): n_paths rows; row i is named
 *     paths[offsets[i]:offsets[i+1]] (relative to root, any bytes but NUL,
 *     1 to CHECKSIG_MAX_LINE_LEN of them; offsets nondecreasing, offsets[0]
 *     may be nonzero), has algorithm entry_algorithms[i] (or, with
 *     entry_algorithms NULL, algorithm), expects the first digest-size bytes
 *     of entry_digests[i*entry_width:] (the rest of the cell zero), and has
 *     line entry_lines[i] (NULL: 0). A row whose entry_algorithms[i] is
 *     CHECKSIG_ALG_NONE (its digest cell all zero) is listed but not
 *     checked: status CHECKSIG_ST_NOT_CHECKED, its file never opened, its
 *     name still listed for F_EXTRA. entry_width (0..64) is also the
 *     result's digest_width. With F_PARSE_ONLY, names alone will do:
 *     entry_width 0, entry_digests NULL (to list a stream's extra files
 *     with F_EXTRA). A bad entry fails checksig_job_start with
 *     CHECKSIG_E_INVALID naming it (entries[i]: ...). manifest, if given,
 *     names the manifest file the entries were parsed from: F_EXTRA does
 *     not list it, as for a manifest file.
 * Parts of one run spread over processes (a Dask cluster):
 *   - F_DEFER with defer_min: a scan pass over a shard of entries, which
 *     hashes the small files and sizes the others, so that those can be
 *     hashed in shards cut by their bytes (entries jobs of their own).
 *   - walk_dir (and F_WALK_FLAT): F_EXTRA walks that part of the tree
 *     only (walk_dir's subtree, or its own files), comparing the listed
 *     names in it; disjoint parts that cover the tree give together the
 *     extra rows of the whole. A walk_dir that is no directory (a file, a
 *     symlink, gone) has no extra file.
 * Whatever the input, the rows are confined, opened and hashed alike, give
 * the same statuses and columns, and F_EXTRA compares the walk with their
 * names. A manifest file or text with no entry is CHECKSIG_E_MANIFEST
 * unless F_ALLOW_EMPTY; zero entries are zero rows. */
typedef struct {
    int32_t kind;             /* CHECKSIG_JOB_* */
    int32_t workers;          /* 0: number of CPUs */
    uint32_t flags;           /* CHECKSIG_F_*; an unknown bit is CHECKSIG_E_INVALID */
    int32_t algorithm;        /* CHECKSIG_ALG_*; NONE: infer (verify) */
    int32_t family;           /* verify, with algorithm NONE: CHECKSIG_FAMILY_*, the
                                 family of untagged lines, each line's length picking
                                 the member; NONE: infer */
    const uint8_t *root;      /* verify, make: the directory entries are relative to
                                 (F_PARSE_ONLY without F_EXTRA: may be empty) */
    int64_t root_len;
    const uint8_t *manifest;  /* verify: manifest to read (F_TEXT: its name);
                                 make: manifest to write */
    int64_t manifest_len;
    const uint8_t *paths;     /* digest: the paths, concatenated; F_ENTRIES: the names */
    int64_t paths_len;
    const int64_t *offsets;   /* digest, F_ENTRIES: n_paths+1 offsets into paths */
    int64_t n_paths;
    /* ABI 2 */
    const uint8_t *manifest_text;      /* F_TEXT: the manifest's bytes (NULL: length 0) */
    int64_t manifest_text_len;
    int64_t first_line;                /* F_TEXT or a file: number of its first line (0: 1) */
    int32_t form;                      /* F_TEXT or a file: CHECKSIG_FORM_* to start with */
    int32_t entry_width;               /* F_ENTRIES: bytes per digest cell, 0..64 */
    const uint8_t *entry_algorithms;   /* F_ENTRIES: n_paths CHECKSIG_ALG_*, or NULL */
    const uint8_t *entry_digests;      /* F_ENTRIES: n_paths*entry_width bytes */
    const int64_t *entry_lines;        /* F_ENTRIES: n_paths line numbers (>= 0), or NULL */
    /* ABI 3 */
    int64_t defer_min;                 /* F_DEFER: the size from which files stay PENDING */
    const uint8_t *walk_dir;           /* F_EXTRA: the directory to walk, a clean relative name
                                          beneath root, any bytes but NUL (NULL or length 0:
                                          root itself) */
    int64_t walk_dir_len;
} checksig_request;

/* Result columns, allocated by the caller with the sizes from
 * checksig_job_poll once the job is in PH_READY, and owned by the caller.
 * The engine writes into them until the job is DONE or freed; the caller
 * must keep them alive until then. Digest cells hold raw digest bytes,
 * left-aligned in digest_width bytes, zero padded. */
typedef struct {
    int64_t rows;
    int64_t digest_width;
    int64_t paths_len;
    uint8_t *status;         /* rows: CHECKSIG_ST_* */
    uint8_t *algorithm;      /* rows: CHECKSIG_ALG_* */
    int32_t *errnum;         /* rows: errno for UNREADABLE and friends, else 0 */
    int64_t *size;           /* rows: bytes hashed, or the file's size; -1 unknown */
    int64_t *line;           /* rows: 1-based manifest line (verify; entries: as given), else 0 */
    uint8_t *expected;       /* rows*digest_width: from the manifest (verify) */
    uint8_t *actual;         /* rows*digest_width: computed, zero when not hashed */
    int64_t *path_offsets;   /* rows+1: row i's path is paths[off[i]:off[i+1]] */
    uint8_t *paths;          /* paths_len bytes, as written in the manifest */
} checksig_columns;

int32_t checksig_abi_version(void);
void    checksig_free(void *p);
void    checksig_error_clear(checksig_error *err);

/* Hash one file synchronously into out. length is the digest's length in
 * bytes: 0 for the algorithm's size; BLAKE3 takes any positive length (its
 * extendable output, as b3sum -l; the first 32 bytes are its usual digest).
 * out_cap >= that length. For small files; large ones go through a DIGEST job
 * so they can be cancelled. */
int32_t checksig_file_digest(uint8_t *path, int64_t path_len, int32_t algorithm,
                             int64_t length, uint8_t *out, int64_t out_cap, int64_t *size,
                             checksig_error *err);

int32_t checksig_job_start(checksig_request *req, uint64_t *job, checksig_error *err);
/* Wait up to timeout_ms for the phase to change (0: don't wait), then fill
 * progress[0..n) with the CHECKSIG_P_* counters. */
int32_t checksig_job_poll(uint64_t job, int32_t timeout_ms, int64_t *progress, int64_t n,
                          checksig_error *err);
/* In PH_READY: hand the engine the columns and start the workers. */
int32_t checksig_job_attach(uint64_t job, checksig_columns *cols, checksig_error *err);
/* Ask the job to stop; returns at once. Idempotent. */
int32_t checksig_job_cancel(uint64_t job);
/* In PH_DONE: CHECKSIG_OK, or why the job failed as a whole (cancelled,
 * manifest unusable, manifest could not be written, ...). */
int32_t checksig_job_result(uint64_t job, checksig_error *err);
/* In PH_DONE, verify jobs: fill out[0..n) with the CHECKSIG_I_* values
 * (another kind of job: ALGORITHM NONE and PROBED -1). */
int32_t checksig_job_inference(uint64_t job, int64_t *out, int64_t n, checksig_error *err);
/* Malformed manifest lines: records "LINE\tMESSAGE\n", malloc'd. */
int32_t checksig_job_warnings(uint64_t job, uint8_t **out, int64_t *out_len, checksig_error *err);
/* From PH_READY on: the state the parse of the job's manifest ended in,
 * which the request for the next chunk of the same stream passes on as
 * first_line (*next_line: the number its first line has) and form
 * (*form, CHECKSIG_FORM_*). CHECKSIG_E_HANDLE while enumerating. */
int32_t checksig_job_parse_state(uint64_t job, int64_t *next_line, int32_t *form,
                                 checksig_error *err);
/* Cancel, wait until no worker touches the columns or any file, release
 * the job. The handle is invalid afterwards. */
int32_t checksig_job_free(uint64_t job);

/* The engine's settings and choices in this process, as a JSON object
 * (UTF-8, malloc'd: free it with checksig_free): "io" (the mode, the path
 * chosen, "" while calibrating, and what the calibration chose by: the
 * median ratio of reading's CPU cost to mapping's and each one's cheapest
 * window, ns per MB), "hash" (the libcrypto found in the process, "" for
 * none, and Go's and its CPU cost per algorithm timed), "tune" (every tuned
 * constant, after CHECKSIG_TUNE), "refused" (what CHECKSIG_IO and
 * CHECKSIG_TUNE said that the engine did not accept) and "gomaxprocs". For
 * benchmarks and bug reports; keys may be added. */
int32_t checksig_engine_info(uint8_t **out, int64_t *out_len, checksig_error *err);

/* Debugging: live jobs, open files held by the engine, goroutines. */
int32_t checksig_debug_counters(int64_t *out, int64_t n);

#endif /* CHECKSIG_H */
