/*
 * sharing/common.h - errors, growable buffers, hex, time: what every module uses
 *
 * Errors follow libgit2: the function that detects a failure records one
 * message with kr_error() (thread-local) and returns a negative KR_E* code;
 * callers propagate the code and leave the message alone. kr_errmsg() reads
 * it. Misuse of an API is an assert(), not an error code.
 */
#ifndef KR_COMMON_H
#define KR_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "i18n.h"

enum {
	KR_OK = 0,
	KR_ERROR = -1,     /* anything else */
	KR_ENOTFOUND = -2,
	KR_EPOLICY = -3,   /* content refused by validation or policy */
	KR_EVERIFY = -4,   /* signature, chain or manifest rule failed */
	KR_EPROTO = -5,    /* malformed, truncated or oversized wire data */
	KR_EIO = -6,       /* file system, database or socket failure */
	KR_EEXISTS = -7,
	KR_EUSAGE = -8,
	KR_ETIMEOUT = -9,
	KR_ECONFLICT = -10 /* a ref or row changed underneath us */
};

#define KR_FPR_LEN 32            /* raw Ed25519 public key */
#define KR_FPR_HEX (KR_FPR_LEN * 2)
#define KR_OID_LEN 20
#define KR_OID_HEX 40

/* Records a message (printf-style; fmt is a msgid, translated first) for the current thread; returns code. */
int kr_error(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prefixes the current message with "what: " (fmt translated too), keeping the code. */
int kr_error_prefix(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *kr_errmsg(void);
void kr_error_clear(void);

/* Growable NUL-terminated byte buffer (git's strbuf). buf->ptr is never NULL. */
typedef struct {
	char *ptr;
	size_t len;
	size_t cap;
} kr_buf;
extern char kr_buf__empty[];
#define KR_BUF_INIT { kr_buf__empty, 0, 0 }

void kr_buf_grow(kr_buf *b, size_t extra);
void kr_buf_add(kr_buf *b, const void *data, size_t len);
void kr_buf_adds(kr_buf *b, const char *s);
void kr_buf_addch(kr_buf *b, char c);
void kr_buf_addf(kr_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void kr_buf_vaddf(kr_buf *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal, quotes included. */
void kr_buf_addjson(kr_buf *b, const char *s);
/* Appends ,"key":"v" (the comma when comma is set); a NULL v is written as null. */
void kr_buf_addjson_kv(kr_buf *b, const char *key, const char *v, int comma);
/* Appends s in double quotes, doubling any quote inside (CSV and FTS5 strings alike). */
void kr_buf_addquoted(kr_buf *b, const char *s);
void kr_buf_clear(kr_buf *b);
/* Returns the heap string (caller frees) and resets b. */
char *kr_buf_detach(kr_buf *b);
void kr_buf_release(kr_buf *b);

/*
 * Text made safe to show on a terminal, in a log line or a JSON string that
 * a script prints: whatever a peer, a publisher or a file supplied. Dropped:
 * C0 controls (ESC starts terminal escape sequences), DEL, C1 controls
 * (U+0080-U+009F), the bidirectional controls that reorder what is shown
 * (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and U+2028/U+2029;
 * a byte that is not part of valid UTF-8 becomes '?'. KR_SAFE_LINE keeps
 * the text on one line (\n, \r and \t become a space each); KR_SAFE_TEXT
 * keeps \n and \t, and a CR as a line end (CRLF stays, a bare CR becomes \n).
 * The result is never longer than the input.
 */
enum { KR_SAFE_LINE = 0, KR_SAFE_TEXT = 1 };
/* Rewrites s[0..len) in place; returns the new length (s is NUL-terminated there). */
size_t kr_safe_inplace(char *s, size_t len, int mode);
/* Appends len bytes of s, made safe. */
void kr_buf_addsafe(kr_buf *b, const char *s, size_t len, int mode);
/* s made safe on one line, as a new string (caller frees); NULL for NULL. */
char *kr_safe(const char *s);
/* Whether cp is one of the characters kr_safe_inplace drops. */
int kr_unsafe_char(uint32_t cp);
/*
 * Appends s as one CSV cell for a spreadsheet (RFC 4180 quoting), with
 * OWASP's rule against formula injection: a cell that starts with = + - @,
 * a tab or a CR gets a leading single quote, so Excel, LibreOffice and
 * Google Sheets show it as text instead of evaluating it.
 */
void kr_buf_addcsvcell(kr_buf *b, const char *s);

/* Decodes the UTF-8 character at s (at most len bytes) into *cp; returns its length (>= 1). */
size_t kr_utf8_next(const char *s, size_t len, uint32_t *cp);

void kr_hex(char *out, const uint8_t *in, size_t len); /* out: 2*len+1 */
int kr_unhex(uint8_t *out, size_t len, const char *hex); /* exact length */
int kr_is_hex(const char *s, size_t len);

/*
 * SipHash-2-4 of p[0..len) under a 16-byte key. kr_hash keys it with a
 * secret drawn once per process: for hash tables whose keys a peer
 * chooses (object ids, paths, values), so that keys ground offline to
 * share a bucket are no more likely to than any others (as Redis's dict).
 */
uint64_t kr_siphash(const uint8_t key[16], const void *p, size_t len);
uint64_t kr_hash(const void *p, size_t len);

int64_t kr_now(void);          /* seconds since the epoch (KAIRAN_NOW overrides, for tests) */
double kr_monotonic_ms(void);
void kr_time_iso(char out[32], int64_t t); /* 2026-11-22T10:00:00Z */

/*
 * A name beside path for a file written aside then renamed or linked into
 * place: "PATH.WHAT.PID.N", unique to this call in this process (threads
 * that write the same file each get their own; a name per process was
 * not: one thread's rename took the other's file away). Caller frees.
 */
char *kr_tmp_name(const char *path, const char *what);

/* Whole-file helpers. kr_file_write is atomic (temp file, fsync, rename). */
int kr_file_read(kr_buf *out, const char *path);
int kr_file_write(const char *path, const void *data, size_t len, int mode);
/*
 * kr_file_read for a file found by walking a directory: refuses, naming the
 * path, a symbolic link (O_NOFOLLOW) and anything but a regular file (a
 * FIFO would block forever), with KR_EUSAGE.
 */
int kr_file_read_regular(kr_buf *out, const char *path);
int kr_mkdir_p(const char *path, int mode);

void *kr_malloc(size_t n);     /* abort on OOM, like git's xmalloc */
void *kr_calloc(size_t n, size_t sz);
void *kr_realloc(void *p, size_t n);
char *kr_strdup(const char *s);
char *kr_strndup(const char *s, size_t n);
void kr_strv_free(char **v, size_t n); /* frees each string and the array */
int kr_strv_has(char *const *v, size_t n, const char *s); /* 1 when one of the n strings is s */

/*
 * A library loaded on first use: dlopen(soname), then each symbol's
 * address stored in the function pointer at fn (by memcpy, as POSIX's
 * dlsym page allows, not by a cast). 0; -1 when the library cannot be
 * loaded (why: dlerror's text); -2 when it lacks a symbol (why: its
 * name). On failure the pointers are partly set: do not call through them.
 */
typedef struct {
	const char *name;
	void *fn;                       /* address of the function pointer to fill */
} kr_dlsym;
#define KR_DLSYM(f) { #f, &p_##f },
int kr_dl_load(const char *soname, const kr_dlsym *syms, size_t n, char *why, size_t whylen);
/* kr_dl_load of a library kairan cannot go on without: on failure, says which and its Debian package, and exits 1. */
void kr_dl_require(const char *soname, const kr_dlsym *syms, size_t n, const char *package);
char *kr_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
