/*
 * sharing/common.c - errors, buffers, hex, time and file helpers
 *
 * The error message lives in thread-local storage so the serve loop and the
 * replication worker never see each other's messages.
 */
#include "common.h"

#include <dlfcn.h>
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static _Thread_local char s_errmsg[1024];
char kr_buf__empty[1];

int
kr_error(int code, const char *fmt, ...)
{
	char tmp[sizeof(s_errmsg)];
	va_list ap;

	/* Format aside first: fmt's arguments may include kr_errmsg() itself. fmt is translated here. */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), _(fmt), ap);
	va_end(ap);
	/* Messages quote peers and files: keep them one safe line wherever they are shown or stored. */
	kr_safe_inplace(tmp, strlen(tmp), KR_SAFE_LINE);
	memcpy(s_errmsg, tmp, sizeof(tmp));
	return code;
}

int
kr_error_prefix(int code, const char *fmt, ...)
{
	char prefix[256], old[sizeof(s_errmsg) - 260];
	va_list ap;
	size_t n = strnlen(s_errmsg, sizeof(old) - 1);

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), _(fmt), ap);
	va_end(ap);
	memcpy(old, s_errmsg, n);
	old[n] = '\0';
	kr_safe_inplace(prefix, strlen(prefix), KR_SAFE_LINE);
	snprintf(s_errmsg, sizeof(s_errmsg), "%s: %s", prefix, old);
	return code;
}

const char *
kr_errmsg(void)
{
	return s_errmsg[0] ? s_errmsg : _("unknown error");
}

void
kr_error_clear(void)
{
	s_errmsg[0] = '\0';
}

void *
kr_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fputs(_("kairan: out of memory\n"), stderr);
		abort();
	}
	return p;
}

void *
kr_calloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p) {
		fputs(_("kairan: out of memory\n"), stderr);
		abort();
	}
	return p;
}

void *
kr_realloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fputs(_("kairan: out of memory\n"), stderr);
		abort();
	}
	return p;
}

char *
kr_strdup(const char *s)
{
	return kr_strndup(s, strlen(s));
}

char *
kr_strndup(const char *s, size_t n)
{
	char *p = kr_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
kr_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
kr_strv_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

char *
kr_sprintf(const char *fmt, ...)
{
	kr_buf b = KR_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	kr_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return kr_buf_detach(&b);
}

void
kr_buf_grow(kr_buf *b, size_t extra)
{
	size_t want = b->len + extra + 1;

	if (want <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < want)
		cap *= 2;
	if (b->cap == 0) {
		b->ptr = kr_malloc(cap);
		b->ptr[0] = '\0';
	} else {
		b->ptr = kr_realloc(b->ptr, cap);
	}
	b->cap = cap;
}

void
kr_buf_add(kr_buf *b, const void *data, size_t len)
{
	if (len == 0)
		return;
	kr_buf_grow(b, len);
	memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
}

void
kr_buf_adds(kr_buf *b, const char *s)
{
	kr_buf_add(b, s, strlen(s));
}

void
kr_buf_addch(kr_buf *b, char c)
{
	kr_buf_add(b, &c, 1);
}

void
kr_buf_vaddf(kr_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	if (!fmt) /* never true; tells gcc's UBSan-instrumented analysis so */
		return;
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n <= 0)
		return;
	kr_buf_grow(b, (size_t)n);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
kr_buf_addf(kr_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kr_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

/* Length (1-4) of the well-formed UTF-8 character at s with its code point, or 0. */
static size_t
s_utf8_strict(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	uint32_t v, min;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, v = c & 0x1F, min = 0x80;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, v = c & 0x0F, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, v = c & 0x07, min = 0x10000;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

int
kr_unsafe_char(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
	    (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

size_t
kr_safe_inplace(char *s, size_t len, int mode)
{
	unsigned char *p = (unsigned char *)s;
	size_t r = 0, w = 0;

	while (r < len) {
		uint32_t cp;
		size_t n = s_utf8_strict(p + r, len - r, &cp);
		if (n == 0) {
			p[w++] = '?';
			r++;
			continue;
		}
		if (cp == '\n' || cp == '\t' || cp == '\r') {
			if (mode == KR_SAFE_LINE)
				p[w++] = ' ';
			else if (cp == '\r' && !(r + 1 < len && p[r + 1] == '\n'))
				p[w++] = '\n'; /* a bare CR ends a line; it must not rewind one */
			else
				p[w++] = (unsigned char)cp;
		} else if (!kr_unsafe_char(cp)) {
			memmove(p + w, p + r, n);
			w += n;
		}
		r += n;
	}
	p[w] = '\0';
	return w;
}

void
kr_buf_addsafe(kr_buf *b, const char *s, size_t len, int mode)
{
	if (len == 0)
		return;
	kr_buf_grow(b, len);
	memcpy(b->ptr + b->len, s, len);
	b->len += kr_safe_inplace(b->ptr + b->len, len, mode);
	b->ptr[b->len] = '\0';
}

char *
kr_safe(const char *s)
{
	char *out;

	if (!s)
		return NULL;
	out = kr_strdup(s);
	kr_safe_inplace(out, strlen(out), KR_SAFE_LINE);
	return out;
}

/*
 * JSON escapes every control (and the characters kr_safe_inplace drops) as
 * \uXXXX and replaces bytes that are not UTF-8 by U+FFFD: the output is
 * valid JSON, loses nothing legible, and is itself safe on a terminal.
 */
void
kr_buf_addjson(kr_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);

	kr_buf_addch(b, '"');
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = s_utf8_strict(p + i, len - i, &cp);
		if (n == 0) {
			kr_buf_adds(b, "\\ufffd");
			i++;
			continue;
		}
		switch (cp) {
		case '"': kr_buf_adds(b, "\\\""); break;
		case '\\': kr_buf_adds(b, "\\\\"); break;
		case '\n': kr_buf_adds(b, "\\n"); break;
		case '\r': kr_buf_adds(b, "\\r"); break;
		case '\t': kr_buf_adds(b, "\\t"); break;
		default:
			if (kr_unsafe_char(cp))
				kr_buf_addf(b, "\\u%04x", (unsigned)cp);
			else
				kr_buf_add(b, p + i, n);
		}
		i += n;
	}
	kr_buf_addch(b, '"');
}

void
kr_buf_addjson_kv(kr_buf *b, const char *key, const char *v, int comma)
{
	if (comma)
		kr_buf_addch(b, ',');
	kr_buf_addjson(b, key);
	kr_buf_addch(b, ':');
	if (v)
		kr_buf_addjson(b, v);
	else
		kr_buf_adds(b, "null");
}

void
kr_buf_addquoted(kr_buf *b, const char *s)
{
	kr_buf_addch(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			kr_buf_addch(b, '"');
		kr_buf_addch(b, *s);
	}
	kr_buf_addch(b, '"');
}

void
kr_buf_addcsvcell(kr_buf *b, const char *s)
{
	/* OWASP's list, and the full-width forms a Japanese spreadsheet also takes as a formula */
	static const char *const lead[] = { "=", "+", "-", "@", "\t", "\r", "\xef\xbc\x9d", "\xef\xbc\x8b",
		"\xef\xbc\x8d", "\xef\xbc\xa0" };
	int risky = 0;

	for (size_t i = 0; i < sizeof(lead) / sizeof(lead[0]); i++)
		risky |= strncmp(s, lead[i], strlen(lead[i])) == 0;
	kr_buf_addch(b, '"');
	if (risky)
		kr_buf_addch(b, '\'');
	for (; *s; s++) {
		if (*s == '"')
			kr_buf_addch(b, '"');
		kr_buf_addch(b, *s);
	}
	kr_buf_addch(b, '"');
}

size_t
kr_utf8_next(const char *s, size_t len, uint32_t *cp)
{
	unsigned char c = (unsigned char)s[0];
	size_t l = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;

	*cp = l == 1 ? c : c & (0x3Fu >> (l - 1));
	for (size_t k = 1; k < l && k < len; k++)
		*cp = *cp << 6 | ((unsigned char)s[k] & 0x3F);
	return l < len ? l : len;
}

void
kr_buf_clear(kr_buf *b)
{
	b->len = 0;
	if (b->cap)
		b->ptr[0] = '\0';
}

char *
kr_buf_detach(kr_buf *b)
{
	char *p = b->cap ? b->ptr : kr_strdup("");

	b->ptr = kr_buf__empty;
	b->len = b->cap = 0;
	return p;
}

void
kr_buf_release(kr_buf *b)
{
	if (b->cap)
		free(b->ptr);
	b->ptr = kr_buf__empty;
	b->len = b->cap = 0;
}

void
kr_hex(char *out, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

/* Each byte's value as a hex digit, 16 when it is none (either case). */
static const uint8_t s_hexval_tab[256] = {
#define X16 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16
	X16, X16, X16,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 16, 16, 16, 16, 16,
	16, 10, 11, 12, 13, 14, 15, 16, 16, 16, 16, 16, 16, 16, 16, 16, X16,
	16, 10, 11, 12, 13, 14, 15, 16, 16, 16, 16, 16, 16, 16, 16, 16, X16,
	X16, X16, X16, X16, X16, X16, X16, X16,
#undef X16
};

static int
s_hexval(char c)
{
	uint8_t v = s_hexval_tab[(unsigned char)c];

	return v < 16 ? v : -1;
}

int
kr_unhex(uint8_t *out, size_t len, const char *hex)
{
	if (strlen(hex) != 2 * len)
		return KR_ERROR;
	for (size_t i = 0; i < len; i++) {
		uint8_t hi = s_hexval_tab[(unsigned char)hex[2 * i]], lo = s_hexval_tab[(unsigned char)hex[2 * i + 1]];
		if ((hi | lo) & 16)
			return KR_ERROR;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
kr_is_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s_hexval(s[i]) < 0)
			return 0;
	return 1;
}

int64_t
kr_now(void)
{
	const char *fake = getenv("KAIRAN_NOW");

	if (fake && *fake)
		return strtoll(fake, NULL, 10);
	return (int64_t)time(NULL);
}

double
kr_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void
kr_time_iso(char out[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
s_read_fd(kr_buf *out, int fd, const char *path)
{
	char chunk[65536];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		kr_buf_add(out, chunk, (size_t)n);
	if (n < 0) {
		int e = errno;
		close(fd);
		return kr_error(KR_EIO, "%s: %s", path, strerror(e));
	}
	close(fd);
	return 0;
}

int
kr_file_read(kr_buf *out, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return kr_error(errno == ENOENT ? KR_ENOTFOUND : KR_EIO,
		    "%s: %s", path, strerror(errno));
	return s_read_fd(out, fd, path);
}

int
kr_file_read_regular(kr_buf *out, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;

	if (fd < 0) {
		if (errno == ELOOP)
			return kr_error(KR_EUSAGE, "%s is a symbolic link (links are not followed: copy the "
			    "file itself here)", path);
		return kr_error(errno == ENOENT ? KR_ENOTFOUND : KR_EIO, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return kr_error(KR_EUSAGE, "%s is not a regular file", path);
	}
	return s_read_fd(out, fd, path);
}

char *
kr_tmp_name(const char *path, const char *what)
{
	static atomic_ulong n;

	return kr_sprintf("%s.%s.%d.%lu", path, what, (int)getpid(), atomic_fetch_add(&n, 1));
}

int
kr_file_write(const char *path, const void *data, size_t len, int mode)
{
	char *tmp = kr_tmp_name(path, "tmp");
	const char *p = data;
	int fd, rc = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = kr_error(KR_EIO, "%s: %s", tmp, strerror(errno));
		goto done;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = kr_error(KR_EIO, "%s: %s", tmp, strerror(errno));
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = kr_error(KR_EIO, "%s: fsync: %s", tmp, strerror(errno));
	if (close(fd) < 0 && rc == 0)
		rc = kr_error(KR_EIO, "%s: %s", tmp, strerror(errno));
	if (rc == 0 && rename(tmp, path) < 0)
		rc = kr_error(KR_EIO, "%s: %s", path, strerror(errno));
	if (rc < 0)
		unlink(tmp);
done:
	free(tmp);
	return rc;
}

int
kr_mkdir_p(const char *path, int mode)
{
	char *p;
	int rc = 0;

	if (!*path)
		return kr_error(KR_EUSAGE, "an empty directory name");
	p = kr_strdup(path);
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
				rc = kr_error(KR_EIO, "%s: %s", p, strerror(errno));
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(p);
	return rc;
}

int
kr_dl_load(const char *soname, const kr_dlsym *syms, size_t n, char *why, size_t whylen)
{
	void *so = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (!so) {
		snprintf(why, whylen, "%s", dlerror());
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		void *sym = dlsym(so, syms[i].name);
		if (!sym) {
			snprintf(why, whylen, "%s", syms[i].name);
			return -2;
		}
		memcpy(syms[i].fn, &sym, sizeof(sym));
	}
	return 0;
}

void
kr_dl_require(const char *soname, const kr_dlsym *syms, size_t n, const char *package)
{
	char why[200];
	int rc = kr_dl_load(soname, syms, n, why, sizeof(why));

	if (rc == 0)
		return;
	if (rc == -1)
		fprintf(stderr, _("kairan: cannot load %s: %s (Debian package %s)\n"), soname, why, package);
	else
		fprintf(stderr, _("kairan: %s has no %s (a newer %s is needed)\n"), soname, why, package);
	exit(1);
}

/* ---- keyed hash ---------------------------------------------------------- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

static uint64_t
s_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

uint64_t
kr_siphash(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *p = data, *end = p + (len & ~(size_t)7);
	uint64_t k0 = s_le64(key), k1 = s_le64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	uint64_t m, b = (uint64_t)len << 56;

	for (; p != end; p += 8) {
		m = s_le64(p);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)p[i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static uint8_t s_hash_key[16];
static pthread_once_t s_hash_once = PTHREAD_ONCE_INIT;

/* The kernel's generator; a node that cannot read it keys with the time and pid (still unknown to a peer in advance). */
static void
s_hash_key_init(void)
{
	size_t got = 0;

	while (got < sizeof(s_hash_key)) {
		ssize_t n = getrandom(s_hash_key + got, sizeof(s_hash_key) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof(s_hash_key)) {
		struct timespec ts;
		uint64_t v[2];
		clock_gettime(CLOCK_MONOTONIC, &ts);
		v[0] = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		v[1] = (uint64_t)getpid() ^ (uint64_t)(uintptr_t)&ts;
		memcpy(s_hash_key, v, sizeof(s_hash_key));
	}
}

uint64_t
kr_hash(const void *p, size_t len)
{
	pthread_once(&s_hash_once, s_hash_key_init);
	return kr_siphash(s_hash_key, p, len);
}
