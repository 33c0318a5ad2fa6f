/* tests/unit/test_control.c - a publish handed over the control socket (node/control.c) */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../node/control.h"

static const char s_body[] = "---\nkind: case\nid: 372081/case/gomi\ntitle: ごみ分別の問合せ\n---\n本文\n";
static const unsigned char s_bin[] = { 0, 1, 2, 0xff, 0, '\n' };

static void
s_encode(kr_buf *b)
{
	kr_pubfile f[3] = {
		{ "cases", "cases/gomi.md", s_body, sizeof(s_body) - 1 },
		{ "datasets", "datasets/qa/data/qa.jsonl", s_bin, sizeof(s_bin) },
		{ "datasets", "datasets/qa/data/empty.csv", "", 0 },
	};
	kr_control_pub_encode(b, f, 3, "publish: 1 item(s)\n\n372081/case/gomi 1.0.0\n", "ja_JP.UTF-8");
}

/* What is encoded is decoded as it was, binary data and empty files included. */
static void
test_round_trip(void **state)
{
	kr_buf b = KR_BUF_INIT;
	kr_control_pub p;

	(void)state;
	s_encode(&b);
	assert_int_equal(kr_control_pub_decode(&p, b.ptr, b.len), 0);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.message, "publish: 1 item(s)\n\n372081/case/gomi 1.0.0\n");
	assert_string_equal(p.locale, "ja_JP.UTF-8");
	assert_string_equal(p.files[0].collection, "cases");
	assert_string_equal(p.files[0].path, "cases/gomi.md");
	assert_int_equal(p.files[0].len, sizeof(s_body) - 1);
	assert_memory_equal(p.files[0].data, s_body, sizeof(s_body) - 1);
	assert_string_equal(p.files[1].path, "datasets/qa/data/qa.jsonl");
	assert_int_equal(p.files[1].len, sizeof(s_bin));
	assert_memory_equal(p.files[1].data, s_bin, sizeof(s_bin));
	assert_int_equal(p.files[2].len, 0);
	kr_control_pub_clear(&p);
	kr_buf_release(&b);
}

/* Every prefix of a payload, and one byte more, is refused whole. */
static void
test_truncated_and_trailing(void **state)
{
	kr_buf b = KR_BUF_INIT;
	kr_control_pub p;

	(void)state;
	s_encode(&b);
	for (size_t len = 0; len < b.len; len++) {
		assert_int_equal(kr_control_pub_decode(&p, b.ptr, len), KR_EPROTO);
		assert_null(p.files);
		assert_null(p.message);
	}
	kr_buf_addch(&b, 'x');
	assert_int_equal(kr_control_pub_decode(&p, b.ptr, b.len), KR_EPROTO);
	kr_error_clear();
	kr_buf_release(&b);
}

/* A NUL in a name, an empty name, no files, or a count beyond what the bytes can hold: refused. */
static void
test_malformed(void **state)
{
	kr_control_pub p;
	kr_buf b = KR_BUF_INIT;
	kr_pubfile nul = { "cases", "cases/ab.md", "x", 1 };
	static const unsigned char lie[] = { 0, 0, 0, 0, 0, 0, 0, 1, 'm', 0x7f, 0xff, 0xff, 0xff };

	(void)state;
	kr_control_pub_encode(&b, &nul, 1, "m", NULL);
	/* a NUL inside the name, its length unchanged */
	{
		unsigned char *q = memmem(b.ptr, b.len, "cases/ab.md", 11);
		assert_non_null(q);
		q[7] = '\0';
	}
	assert_int_equal(kr_control_pub_decode(&p, b.ptr, b.len), KR_EPROTO);
	b.len = 0;
	kr_pubfile empty = { "cases", "", "x", 1 };
	kr_control_pub_encode(&b, &empty, 1, "m", NULL);
	assert_int_equal(kr_control_pub_decode(&p, b.ptr, b.len), KR_EPROTO);
	b.len = 0;
	kr_control_pub_encode(&b, NULL, 0, "m", NULL);
	assert_int_equal(kr_control_pub_decode(&p, b.ptr, b.len), KR_EPROTO);
	b.len = 0;
	kr_pubfile one = { "cases", "cases/a.md", "x", 1 };
	kr_control_pub_encode(&b, &one, 1, "m", "ja_JP.UTF-8; rm -rf /");         /* not a locale's name */
	assert_int_equal(kr_control_pub_decode(&p, b.ptr, b.len), KR_EPROTO);
	assert_int_equal(kr_control_pub_decode(&p, lie, sizeof(lie)), KR_EPROTO);
	kr_error_clear();
	kr_buf_release(&b);
}

/* ---- answers given later (KR_CONTROL_LATER) -------------------------------------------------- */

typedef struct {
	kr_control *c;
	uint64_t ticket;
	int calls;
} s_later_arg;

/* Calls are answered later, pokes at once. */
static int
s_later_handle(const char *cmd, const void *payload, size_t len, kr_buf *reply, void *arg)
{
	s_later_arg *a = arg;

	(void)cmd;
	(void)len;
	if (!payload)
		return 0;
	a->calls++;
	a->ticket = kr_control_ticket(a->c);
	kr_buf_adds(reply, "not this");  /* a deferred call's reply is the one kr_control_answer gives */
	return KR_CONTROL_LATER;
}

static int
s_dial(const char *home, const char *what, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.sock", home);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(send(fd, what, len, 0), (ssize_t)len);
	return fd;
}

/* Serves the socket until the handler has taken `calls` calls in all (100 ms at most). */
static void
s_serve_until(s_later_arg *a, int calls)
{
	for (int k = 0; k < 20 && a->calls < calls; k++) {
		struct pollfd p = { -1, 0, 0 };
		poll(&p, 0, 5);
		kr_control_serve(a->c, s_later_handle, a);
	}
	assert_int_equal(a->calls, calls);
}

/* What fd has within ms (NUL-terminated in buf), up to EOF; -1 if nothing came at all. */
static int
s_read(int fd, char *buf, size_t size, int ms)
{
	size_t n = 0;
	struct pollfd p = { fd, POLLIN, 0 };

	while (n < size - 1 && poll(&p, 1, ms) > 0) {
		ssize_t r = read(fd, buf + n, size - 1 - n);
		if (r <= 0) {
			buf[n] = '\0';
			return (int)n;
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
	return n ? (int)n : -1;
}

/*
 * A call answered later waits, unanswered, while other clients are
 * served; kr_control_answer gives it its own answer, once; one still
 * waiting when the socket closes is closed (the command says whether it
 * published is not known).
 */
static void
test_answer_later(void **state)
{
	char home[] = "/tmp/kairan-control-XXXXXX", buf[256];
	s_later_arg a = { 0 };
	kr_buf reply = KR_BUF_INIT;
	int first, ping, last;

	(void)state;
	assert_non_null(mkdtemp(home));
	assert_int_equal(kr_control_listen(&a.c, home), 0);
	first = s_dial(home, "publish 3\nabc", 13);
	s_serve_until(&a, 1);
	assert_int_equal(s_read(first, buf, sizeof(buf), 100), -1);      /* no answer yet */

	ping = s_dial(home, "ping\n", 5);
	for (int k = 0; k < 20; k++) {
		kr_control_serve(a.c, s_later_handle, &a);
		if (s_read(ping, buf, sizeof(buf), 5) > 0)
			break;
	}
	assert_string_equal(buf, "ok\n");                               /* others are answered meanwhile */
	assert_int_equal(s_read(first, buf, sizeof(buf), 50), -1);

	kr_buf_adds(&reply, "1 1 3\n");
	kr_control_answer(a.c, a.ticket + 1, 0, &reply);                 /* no such call: nothing happens */
	assert_int_equal(s_read(first, buf, sizeof(buf), 50), -1);
	kr_control_answer(a.c, a.ticket, 0, &reply);
	assert_int_equal(s_read(first, buf, sizeof(buf), 1000), 9);
	assert_string_equal(buf, "ok\n1 1 3\n");                        /* its own answer, then EOF */

	last = s_dial(home, "publish 1\nx", 11);
	s_serve_until(&a, 2);
	assert_true(a.ticket != 0);
	kr_control_close(&a.c);
	assert_int_equal(s_read(last, buf, sizeof(buf), 1000), 0);       /* closed, no answer */
	close(first);
	close(ping);
	close(last);
	kr_buf_release(&reply);
	rmdir(home);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated_and_trailing),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_answer_later),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
