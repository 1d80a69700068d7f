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
 *     (numpy arrays in Python) once the job says how big they must be, and
 *     the engine writes results straight into them.
 */
#ifndef CHECKSIG_H
#define CHECKSIG_H

#include <stdint.h>

#define CHECKSIG_ABI_VERSION 2

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

/* Algorithms, by index. Names are hashlib's. Digest sizes in bytes:
 * md5 16, sha1 20, sha224 28, sha256 32, sha384 48, sha512 64. */
#define CHECKSIG_ALG_NONE   0
#define CHECKSIG_ALG_MD5    1
#define CHECKSIG_ALG_SHA1   2
#define CHECKSIG_ALG_SHA224 3
#define CHECKSIG_ALG_SHA256 4
#define CHECKSIG_ALG_SHA384 5
#define CHECKSIG_ALG_SHA512 6

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

/* Job kinds. */
#define CHECKSIG_JOB_VERIFY 1  /* check every entry of a manifest under root */
#define CHECKSIG_JOB_DIGEST 2  /* hash a list of paths (not confined) */
#define CHECKSIG_JOB_MAKE   3  /* walk root, hash every regular file, write a manifest */

/* Request flags. */
#define CHECKSIG_F_STRICT    0x1  /* verify: a malformed manifest line fails the job */
#define CHECKSIG_F_TAG       0x2  /* make: write BSD tag lines (SHA256 (name) = hex) */
#define CHECKSIG_F_EXTRA     0x4  /* verify: add a row for every regular file under root
                                     the manifest does not list (status EXTRA) */
#define CHECKSIG_F_ALLOW_OUTSIDE 0x8 /* verify: follow names out of root (trusted manifests) */

/* Job phases (progress[0]). */
#define CHECKSIG_PH_ENUMERATING 1  /* parsing the manifest or walking the tree */
#define CHECKSIG_PH_READY       2  /* rows known; waiting for checksig_job_attach */
#define CHECKSIG_PH_RUNNING     3  /* workers hashing */
#define CHECKSIG_PH_DONE        4  /* finished; checksig_job_result says how */

/* Indices into the progress array filled by checksig_job_poll. */
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

typedef struct {
    int32_t code;      /* CHECKSIG_E_* */
    int32_t errnum;    /* the OS errno when known, else 0 */
    int64_t line;      /* 1-based manifest line, 0 when none */
    char   *message;   /* malloc'd by Go, NUL terminated, UTF-8 */
    char   *path;      /* malloc'd by Go, the file concerned, or NULL */
    int64_t path_len;  /* bytes in path (it may hold any byte but NUL) */
} checksig_error;

typedef struct {
    int32_t kind;             /* CHECKSIG_JOB_* */
    int32_t workers;          /* 0: number of CPUs */
    uint32_t flags;           /* CHECKSIG_F_* */
    int32_t algorithm;        /* CHECKSIG_ALG_*; NONE: infer (verify) */
    const uint8_t *root;      /* verify, make: the directory entries are relative to */
    int64_t root_len;
    const uint8_t *manifest;  /* verify: manifest to read; make: manifest to write */
    int64_t manifest_len;
    const uint8_t *paths;     /* digest: the paths, concatenated */
    int64_t paths_len;
    const int64_t *offsets;   /* digest: n_paths+1 offsets into paths */
    int64_t n_paths;
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
    int64_t *line;           /* rows: 1-based manifest line (verify), else 0 */
    uint8_t *expected;       /* rows*digest_width: from the manifest (verify) */
    uint8_t *actual;         /* rows*digest_width: computed, zero when not hashed */
    int64_t *path_offsets;   /* rows+1: row i's path is paths[off[i]:off[i+1]] */
    uint8_t *paths;          /* paths_len bytes, as written in the manifest */
} checksig_columns;

int32_t checksig_abi_version(void);
void    checksig_free(void *p);
void    checksig_error_clear(checksig_error *err);

/* Hash one file synchronously into out (cap >= 64). For small files; large
 * ones go through a DIGEST job so they can be cancelled. */
int32_t checksig_file_digest(uint8_t *path, int64_t path_len, int32_t algorithm,
                             uint8_t *out, int64_t out_cap, int64_t *size,
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
/* Malformed manifest lines: records "LINE\tMESSAGE\n", malloc'd. */
int32_t checksig_job_warnings(uint64_t job, uint8_t **out, int64_t *out_len, checksig_error *err);
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
