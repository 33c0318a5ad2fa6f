/*
 * node/cmd_federation.c - the board's ceremony (DESIGN §6)
 *
 *   federation create   a genesis document from the board members' id cards
 *   federation propose  the next version: members in and out, revocations,
 *                       rotations, threshold, expiry
 *   federation sign     shows the change computed from the bytes it signs,
 *                       asks, then adds this node's signature
 *   federation apply    checks the chain rule and installs the version
 *   federation show     the federation as this node holds it
 *
 * Proposals are files (SignedMulti bytes) passed between board members by
 * mail, USB or a shared folder. Signing and applying change a file or the
 * chain all at once or not at all.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../policies/idcard.h"
#include "../sharing/fedstore.h"
#include "federate.h"
#include "cli.h"
#include "serve.h"

#define DAY 86400
#define DEFAULT_DAYS 365

/* translated where printed */
static const char *const s_usage = N_(
	"usage: kairan federation create --name NAME --threshold M --board ID.json [--board ID.json ...]\n"
	"                                [--expires-days N] -o FILE\n"
	"       kairan federation propose [--add-member ID.json [--role hub|member|board]]...\n"
	"                                [--remove-member FPR|CODE]... [--revoke FPR --reason compromised|retired]...\n"
	"                                [--rotate OLD-FPR NEW-ID.json]... [--threshold M] [--renew]\n"
	"                                [--expires-days N] -o FILE\n"
	"       kairan federation sign FILE [--yes]\n"
	"       kairan federation apply FILE\n"
	"       kairan federation show [--json]\n");

static int
s_usage_fail(void)
{
	fputs(_(s_usage), stderr);
	return 2;
}

static int
s_fail(const char *sub)
{
	fprintf(stderr, _("kairan: federation %s: %s\n"), sub, kr_errmsg());
	return 1;
}

/* ---- documents ------------------------------------------------------- */

static const char *
s_role_ja(unsigned roles)
{
	static char buf[64];

	buf[0] = '\0';
	if (roles & KR_ROLE_BOARD)
		strcat(buf, "ボード");
	if (roles & KR_ROLE_HUB)
		strcat(buf, *buf ? "・ハブ" : "ハブ");
	if (roles & KR_ROLE_MEMBER)
		strcat(buf, *buf ? "・構成員" : "構成員");
	return buf;
}

static void
s_roles_en(kr_buf *b, unsigned roles)
{
	const char *names[3] = { "board", "hub", "member" };
	int first = 1;

	for (int i = 0; i < 3; i++)
		if (roles & (1u << i)) {
			if (!first)
				kr_buf_addch(b, ',');
			kr_buf_addjson(b, names[i]);
			first = 0;
		}
}

/* Deep copy through the codec: the copy owns everything. */
static void
s_copy(kr_membership *dst, const kr_membership *src)
{
	kr_buf b = KR_BUF_INIT;

	kr_membership_encode(&b, src);
	if (kr_membership_decode(dst, b.ptr, b.len) < 0)
		abort();                /* we encoded it ourselves */
	kr_buf_release(&b);
}

static void
s_add_member(kr_membership *m, const kr_idcard *c, unsigned roles)
{
	kr_fed_member *x;

	m->members = kr_realloc(m->members, (m->nmembers + 1) * sizeof(*m->members));
	x = &m->members[m->nmembers++];
	memset(x, 0, sizeof(*x));
	x->lg_code = kr_strdup(c->lg_code);
	x->name = kr_strdup(c->name);
	x->roles = roles;
	memcpy(x->key, c->key, KR_FPR_LEN);
	memcpy(x->curve, c->transport, 32);
	x->has_curve = 1;
	x->endpoints = kr_calloc(1, sizeof(char *));
	x->endpoints[0] = kr_strdup(c->listen);
	x->nendpoints = 1;
	if (roles & KR_ROLE_BOARD) {
		m->board = kr_realloc(m->board, (m->nboard + 1) * sizeof(*m->board));
		memcpy(m->board[m->nboard].key, c->key, KR_FPR_LEN);
		m->board[m->nboard].name = kr_strdup(c->name);
		m->board[m->nboard].lg_code = kr_strdup(c->lg_code);
		m->nboard++;
	}
}

/* Removes the member (and its board seat) with key; 0 if it was not there. */
static int
s_remove_key(kr_membership *m, const uint8_t key[KR_FPR_LEN])
{
	int found = 0;

	for (size_t i = 0; i < m->nmembers; i++)
		if (memcmp(m->members[i].key, key, KR_FPR_LEN) == 0) {
			free(m->members[i].lg_code);
			free(m->members[i].name);
			kr_strv_free(m->members[i].endpoints, m->members[i].nendpoints);
			m->members[i] = m->members[--m->nmembers];
			found = 1;
			break;
		}
	for (size_t i = 0; i < m->nboard; i++)
		if (memcmp(m->board[i].key, key, KR_FPR_LEN) == 0) {
			free(m->board[i].name);
			free(m->board[i].lg_code);
			m->board[i] = m->board[--m->nboard];
			break;
		}
	return found;
}

/* A member named by fingerprint, unique fingerprint prefix (>= 8) or lg_code. */
static const kr_fed_member *
s_find(const kr_membership *m, const char *arg)
{
	const kr_fed_member *hit = NULL;
	size_t n = strlen(arg), hits = 0;

	for (size_t i = 0; i < m->nmembers; i++) {
		char hex[KR_FPR_HEX + 1];
		kr_hex(hex, m->members[i].key, KR_FPR_LEN);
		if (strcmp(m->members[i].lg_code, arg) == 0 || (n >= 8 && strncmp(hex, arg, n) == 0)) {
			hit = &m->members[i];
			hits++;
		}
	}
	if (hits == 1)
		return hit;
	kr_error(KR_EUSAGE, hits ? "'%s' matches several members; give the whole fingerprint" :
	    "no member '%s' in version %llu (see: kairan federation show)", arg,
	    (unsigned long long)m->version);
	return NULL;
}

static int
s_read_file(const char *path, kr_signed_multi *sm, kr_membership *m)
{
	kr_buf b = KR_BUF_INIT;
	int rc;

	if ((rc = kr_file_read(&b, path)) < 0)
		return rc;
	rc = kr_signed_multi_decode(sm, b.ptr, b.len);
	kr_buf_release(&b);
	if (rc < 0)
		return kr_error_prefix(rc, "%s", path);
	if ((rc = kr_membership_decode(m, sm->body.ptr, sm->body.len)) < 0) {
		kr_signed_multi_clear(sm);
		return kr_error_prefix(rc, "%s", path);
	}
	return 0;
}

static int
s_write_file(const char *path, const kr_signed_multi *sm)
{
	kr_buf b = KR_BUF_INIT;
	int rc;

	kr_signed_multi_encode(&b, sm);
	rc = kr_file_write(path, b.ptr, b.len, 0644);
	kr_buf_release(&b);
	return rc;
}

/* Encodes m as a new unsigned proposal and writes it. */
static int
s_write_proposal(const char *path, const kr_membership *m)
{
	kr_signed_multi sm = { KR_BUF_INIT, NULL, 0 };
	int rc;

	kr_membership_encode(&sm.body, m);
	rc = s_write_file(path, &sm);
	kr_signed_multi_clear(&sm);
	return rc;
}

static void
s_threshold_words(kr_buf *b, uint32_t t, size_t n)
{
	kr_buf_addf(b, "%zu人のうち%u人の署名で変更できます", n, t);
}

/* ---- create ---------------------------------------------------------- */

static int
s_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' }, { "threshold", required_argument, NULL, 't' },
		{ "board", required_argument, NULL, 'b' }, { "expires-days", required_argument, NULL, 'e' },
		{ "output", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *out = NULL;
	char **cards = NULL;
	size_t ncards = 0;
	long threshold = 0, days = DEFAULT_DAYS;
	kr_membership m = { 0 };
	kr_buf words = KR_BUF_INIT;
	int o, rc = 1, warn;

	optind = 0;
	while ((o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (o) {
		case 'n': name = optarg; break;
		case 't': threshold = strtol(optarg, NULL, 10); break;
		case 'b':
			cards = kr_realloc(cards, (ncards + 1) * sizeof(char *));
			cards[ncards++] = optarg;
			break;
		case 'e': days = strtol(optarg, NULL, 10); break;
		case 'o': out = optarg; break;
		case 'h': fputs(_(s_usage), stdout); free(cards); return 0;
		default: free(cards); return s_usage_fail();
		}
	}
	if (!name || !*name || !out || !ncards || optind != argc) {
		fprintf(stderr, _("kairan: federation create: --name, at least one --board and -o are required\n"));
		free(cards);
		return s_usage_fail();
	}
	if (days < 1 || days > 3660) {
		fprintf(stderr, _("kairan: federation create: --expires-days must be 1..3660\n"));
		free(cards);
		return 2;
	}
	m.name = kr_strdup(name);
	m.version = 1;
	m.issued = kr_now();
	m.expires = m.issued + days * DAY;
	m.threshold = (uint32_t)(threshold > 0 && threshold <= KR_FED_MAX_BOARD ? threshold : 0);
	for (size_t i = 0; i < ncards; i++) {
		kr_idcard c;
		if (kr_idcard_read(&c, cards[i]) < 0) {
			s_fail("create");
			goto done;
		}
		if (kr_fed_member_by_key(&m, c.key) || kr_fed_member_by_code(&m, c.lg_code)) {
			fprintf(stderr, _("kairan: federation create: %s: %s (%s) is given twice\n"), cards[i], c.name,
			    c.lg_code);
			kr_idcard_clear(&c);
			goto done;
		}
		s_add_member(&m, &c, KR_ROLE_BOARD | KR_ROLE_MEMBER);
		kr_idcard_clear(&c);
	}
	if (kr_fed_validate(&m, &warn) < 0) {
		s_fail("create");
		goto done;
	}
	if (s_write_proposal(out, &m) < 0) {
		s_fail("create");
		goto done;
	}
	s_threshold_words(&words, m.threshold, m.nboard);
	printf(_("wrote %s: genesis of %s, board of %zu (%s)\n"), out, m.name, m.nboard, words.ptr);
	if (warn)
		printf(_("warning: the threshold equals the board size: one lost key would freeze the federation\n"));
	printf(_("next: each board member runs  kairan federation sign %s  and passes the file on;\n"
	    "      then  kairan federation apply %s\n"), out, out);
	rc = 0;
done:
	kr_membership_clear(&m);
	kr_buf_release(&words);
	free(cards);
	return rc;
}

/* ---- propose --------------------------------------------------------- */

static int
s_open_chain(kr_cli *c, kr_fedstore *f, const char *sub)
{
	if (kr_fedstore_open(f, c->h.home) < 0)
		return s_fail(sub);
	if (!f->have) {
		fprintf(stderr, _("kairan: federation %s: this node holds no federation "
		    "(create one, or join one with kairan join)\n"), sub);
		kr_fedstore_close(f);
		return 1;
	}
	return 0;
}

static int
s_propose(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "add-member", required_argument, NULL, 'a' }, { "role", required_argument, NULL, 'r' },
		{ "remove-member", required_argument, NULL, 'd' }, { "revoke", required_argument, NULL, 'k' },
		{ "reason", required_argument, NULL, 'y' }, { "rotate", required_argument, NULL, 'x' },
		{ "threshold", required_argument, NULL, 't' }, { "renew", no_argument, NULL, 'n' },
		{ "expires-days", required_argument, NULL, 'e' }, { "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	kr_fedstore f;
	kr_membership m = { 0 };
	const char *out = NULL;
	long days = DEFAULT_DAYS, threshold = -1;
	int o, rc = 1, renew = 0, changes = 0, warn, last = 0;   /* last: 'a' or 'k', for --role / --reason */
	int64_t now = kr_now();

	if (s_open_chain(c, &f, "propose"))
		return 1;
	s_copy(&m, &f.cur);
	m.version = f.cur.version + 1;
	memcpy(m.federation, f.id, 32);
	m.has_federation = 1;
	m.issued = now;
	optind = 0;
	while ((o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		kr_idcard card;
		const kr_fed_member *x;
		switch (o) {
		case 'a':
			if (kr_idcard_read(&card, optarg) < 0) {
				s_fail("propose");
				goto done;
			}
			if ((x = kr_fed_member_by_key(&m, card.key)) || (x = kr_fed_member_by_code(&m, card.lg_code))) {
				fprintf(stderr, _("kairan: federation propose: %s: %s (%s) is already a member "
				    "(one key per municipality; use --rotate to change its key)\n"), optarg, x->name,
				    x->lg_code);
				kr_idcard_clear(&card);
				goto done;
			}
			if (kr_fed_revocation(&m, card.key)) {
				fprintf(stderr, _("kairan: federation propose: %s: this key was revoked and cannot "
				    "come back\n"), optarg);
				kr_idcard_clear(&card);
				goto done;
			}
			s_add_member(&m, &card, KR_ROLE_MEMBER);
			kr_idcard_clear(&card);
			last = 'a';
			changes++;
			break;
		case 'r': {
			unsigned r = kr_role_parse(optarg);
			kr_fed_member *y = last == 'a' ? &m.members[m.nmembers - 1] : NULL;
			if (!r || !y) {
				fprintf(stderr, _("kairan: federation propose: --role %s must follow --add-member "
				    "and be hub, member or board\n"), optarg);
				goto done;
			}
			if (r == KR_ROLE_BOARD) {
				kr_idcard again = { 0 };
				memcpy(again.key, y->key, KR_FPR_LEN);
				memcpy(again.transport, y->curve, 32);
				again.name = kr_strdup(y->name);
				again.lg_code = kr_strdup(y->lg_code);
				again.listen = kr_strdup(y->endpoints[0]);
				s_remove_key(&m, again.key);
				s_add_member(&m, &again, KR_ROLE_BOARD | KR_ROLE_MEMBER);
				kr_idcard_clear(&again);
			} else {
				y->roles |= r;
			}
			break;
		}
		case 'd': {
			uint8_t key[KR_FPR_LEN];
			if (!(x = s_find(&m, optarg))) {
				s_fail("propose");
				goto done;
			}
			memcpy(key, x->key, KR_FPR_LEN);     /* x goes away with the member */
			s_remove_key(&m, key);
			last = 0;
			changes++;
			break;
		}
		case 'k':
			if (!(x = s_find(&m, optarg))) {
				s_fail("propose");
				goto done;
			}
			m.revoked = kr_realloc(m.revoked, (m.nrevoked + 1) * sizeof(*m.revoked));
			memset(&m.revoked[m.nrevoked], 0, sizeof(m.revoked[0]));
			memcpy(m.revoked[m.nrevoked].key, x->key, KR_FPR_LEN);
			m.revoked[m.nrevoked].since = now;
			m.nrevoked++;
			s_remove_key(&m, m.revoked[m.nrevoked - 1].key);
			last = 'k';
			changes++;
			break;
		case 'y':
			if (last != 'k' || !(m.revoked[m.nrevoked - 1].reason = strcmp(optarg, "compromised") == 0 ?
			    KR_REVOKE_COMPROMISED : strcmp(optarg, "retired") == 0 ? KR_REVOKE_RETIRED : 0)) {
				fprintf(stderr, _("kairan: federation propose: --reason %s must follow --revoke and be "
				    "compromised or retired\n"), optarg);
				goto done;
			}
			last = 0;
			break;
		case 'x': {
			const char *newcard = optind < argc ? argv[optind++] : NULL;
			unsigned roles;
			if (!newcard || !(x = s_find(&m, optarg))) {
				if (!newcard)
					fprintf(stderr, _("kairan: federation propose: --rotate needs OLD-FPR NEW-ID.json\n"));
				else
					s_fail("propose");
				goto done;
			}
			if (kr_idcard_read(&card, newcard) < 0) {
				s_fail("propose");
				goto done;
			}
			if (strcmp(card.lg_code, x->lg_code) != 0 || kr_fed_member_by_key(&m, card.key)) {
				fprintf(stderr, _("kairan: federation propose: %s: a rotation keeps the municipality "
				    "(%s) and needs a key that is not a member yet\n"), newcard, x->lg_code);
				kr_idcard_clear(&card);
				goto done;
			}
			roles = x->roles;
			m.revoked = kr_realloc(m.revoked, (m.nrevoked + 1) * sizeof(*m.revoked));
			memset(&m.revoked[m.nrevoked], 0, sizeof(m.revoked[0]));
			memcpy(m.revoked[m.nrevoked].key, x->key, KR_FPR_LEN);
			m.revoked[m.nrevoked].reason = KR_REVOKE_RETIRED;
			m.revoked[m.nrevoked].since = now;
			memcpy(m.revoked[m.nrevoked].replaced_by, card.key, KR_FPR_LEN);
			m.revoked[m.nrevoked].has_replacement = 1;
			m.nrevoked++;
			s_remove_key(&m, m.revoked[m.nrevoked - 1].key);
			s_add_member(&m, &card, roles);
			kr_idcard_clear(&card);
			last = 0;
			changes++;
			break;
		}
		case 't': threshold = strtol(optarg, NULL, 10); changes++; break;
		case 'n': renew = 1; changes++; break;
		case 'e': days = strtol(optarg, NULL, 10); break;
		case 'o': out = optarg; break;
		case 'h': fputs(_(s_usage), stdout); rc = 0; goto done;
		default: rc = s_usage_fail(); goto done;
		}
	}
	if (!out || optind != argc || !changes) {
		fprintf(stderr, _("kairan: federation propose: -o FILE and at least one change are required\n"));
		rc = s_usage_fail();
		goto done;
	}
	for (size_t i = 0; i < m.nrevoked; i++)
		if (!m.revoked[i].reason) {
			fprintf(stderr, _("kairan: federation propose: --revoke needs --reason compromised|retired\n"));
			rc = 2;
			goto done;
		}
	if (threshold >= 0)
		m.threshold = (uint32_t)(threshold <= KR_FED_MAX_BOARD ? threshold : 0);
	if (days < 1 || days > 3660) {
		fprintf(stderr, _("kairan: federation propose: --expires-days must be 1..3660\n"));
		rc = 2;
		goto done;
	}
	if (renew)
		m.expires = now + days * DAY;
	if (kr_fed_validate(&m, &warn) < 0) {
		s_fail("propose");
		goto done;
	}
	if (m.expires <= now)
		printf(_("warning: this version would already be expired; add --renew\n"));
	if (warn)
		printf(_("warning: the threshold equals the board size: one lost key would freeze the federation\n"));
	if (s_write_proposal(out, &m) < 0) {
		s_fail("propose");
		goto done;
	}
	printf(_("wrote %s: version %llu of %s, proposed against version %llu\n"
	    "next: board members run  kairan federation sign %s;  then  kairan federation apply %s\n"), out,
	    (unsigned long long)m.version, m.name, (unsigned long long)f.cur.version, out, out);
	rc = 0;
done:
	kr_membership_clear(&m);
	kr_fedstore_close(&f);
	return rc;
}

/* ---- sign ------------------------------------------------------------ */

static void
s_member_line(kr_buf *b, const char *what, const kr_fed_member *x)
{
	char hex[KR_FPR_HEX + 1];

	kr_hex(hex, x->key, KR_FPR_LEN);
	kr_buf_addf(b, "  %s: %s (%s) 役割: %s 鍵: %.16s…\n", what, x->name, x->lg_code, s_role_ja(x->roles), hex);
}

/* What next changes relative to cur (NULL: describe the genesis), in Japanese. */
static void
s_describe(kr_buf *b, const kr_membership *cur, const kr_membership *next)
{
	char when[32];
	kr_buf words = KR_BUF_INIT;

	kr_buf_addf(b, "連合: %s\n", next->name);
	if (!cur) {
		kr_buf_addf(b, "版: 1 (新しい連合の最初の版)\n");
		for (size_t i = 0; i < next->nmembers; i++)
			s_member_line(b, "構成員", &next->members[i]);
	} else {
		kr_buf_addf(b, "版: %llu → %llu\n", (unsigned long long)cur->version,
		    (unsigned long long)next->version);
		for (size_t i = 0; i < next->nmembers; i++) {
			const kr_fed_member *was = kr_fed_member_by_key(cur, next->members[i].key);
			if (!was && !kr_fed_member_by_code(cur, next->members[i].lg_code))
				s_member_line(b, "追加", &next->members[i]);
			else if (was && was->roles != next->members[i].roles) {
				kr_buf_addf(b, "  役割の変更: %s (%s) %s", next->members[i].name, next->members[i].lg_code,
				    s_role_ja(was->roles));
				kr_buf_addf(b, " → %s\n", s_role_ja(next->members[i].roles));
			}
		}
		for (size_t i = 0; i < cur->nmembers; i++)
			if (!kr_fed_member_by_key(next, cur->members[i].key) &&
			    !kr_fed_revocation(next, cur->members[i].key))
				s_member_line(b, "削除", &cur->members[i]);
		for (size_t i = 0; i < next->nrevoked; i++) {
			const kr_fed_revoked *r = &next->revoked[i];
			const kr_fed_member *who = kr_fed_member_by_key(cur, r->key);
			char hex[KR_FPR_HEX + 1];
			if (kr_fed_revocation(cur, r->key))
				continue;
			kr_hex(hex, r->key, KR_FPR_LEN);
			if (r->has_replacement) {
				char nhex[KR_FPR_HEX + 1];
				kr_hex(nhex, r->replaced_by, KR_FPR_LEN);
				kr_buf_addf(b, "  鍵の交換: %s (%s) %.16s… → %.16s…\n", who ? who->name : "?",
				    who ? who->lg_code : "?", hex, nhex);
			} else {
				kr_buf_addf(b, "  失効: %s (%s) 鍵 %.16s… 理由: %s\n", who ? who->name : "?",
				    who ? who->lg_code : "?", hex, r->reason == KR_REVOKE_COMPROMISED ?
				    "漏えい (compromised): この日時以降に受け取ったものは表示から外れます" :
				    "退任 (retired): 新しい公開はできません。これまでの公開は有効です");
			}
		}
		if (cur->threshold != next->threshold || cur->nboard != next->nboard) {
			s_threshold_words(&words, cur->threshold, cur->nboard);
			kr_buf_addf(b, "  しきい値: %s → ", words.ptr);
			kr_buf_clear(&words);
		}
	}
	s_threshold_words(&words, next->threshold, next->nboard);
	kr_buf_addf(b, "%s%s\n", cur && (cur->threshold != next->threshold || cur->nboard != next->nboard) ?
	    "" : "しきい値: ", words.ptr);
	kr_time_iso(when, next->expires);
	kr_buf_addf(b, "有効期限: %s\n", when);
	kr_buf_release(&words);
}

static int
s_sign(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "yes", no_argument, NULL, 'y' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	kr_fedstore f;
	kr_signed_multi sm = { KR_BUF_INIT, NULL, 0 };
	kr_membership m = { 0 };
	kr_buf desc = KR_BUF_INIT;
	const char *path;
	int o, yes = 0, rc = 1;

	optind = 0;
	while ((o = getopt_long(argc, argv, "yh", opts, NULL)) != -1) {
		switch (o) {
		case 'y': yes = 1; break;
		case 'h': fputs(_(s_usage), stdout); return 0;
		default: return s_usage_fail();
		}
	}
	if (optind + 1 != argc)
		return s_usage_fail();
	path = argv[optind];
	if (kr_fedstore_open(&f, c->h.home) < 0)
		return s_fail("sign");
	if (s_read_file(path, &sm, &m) < 0) {
		s_fail("sign");
		goto done;
	}
	if (f.have && m.version <= f.cur.version) {
		fprintf(stderr, _("kairan: federation sign: %s is version %llu; this node already holds version %llu "
		    "(nothing to sign)\n"), path, (unsigned long long)m.version, (unsigned long long)f.cur.version);
		goto done;
	}
	if (f.have && m.version != f.cur.version + 1) {
		fprintf(stderr, _("kairan: federation sign: %s is version %llu, but this node holds version %llu: "
		    "install version %llu here first (kairan federation apply FILE)\n"), path,
		    (unsigned long long)m.version, (unsigned long long)f.cur.version,
		    (unsigned long long)m.version - 1);
		goto done;
	}
	if (f.have && (!m.has_federation || memcmp(m.federation, f.id, 32) != 0)) {
		fprintf(stderr, _("kairan: federation sign: %s belongs to another federation (%s)\n"), path, m.name);
		goto done;
	}
	if (!f.have && m.version != 1) {
		fprintf(stderr, _("kairan: federation sign: %s is version %llu of %s, and this node holds no "
		    "version of it yet (join first)\n"), path, (unsigned long long)m.version, m.name);
		goto done;
	}
	if (kr_fed_validate(&m, NULL) < 0) {
		s_fail("sign");
		goto done;
	}
	if (!kr_fed_seat_by_key(&m, kr_key_pub(c->h.key)) && !(f.have && kr_fed_seat_by_key(&f.cur,
	    kr_key_pub(c->h.key)))) {
		fprintf(stderr, _("kairan: federation sign: this node (%s) is not on the current or the proposed "
		    "board; its signature would not count\n"), c->h.cfg.name);
		goto done;
	}
	/* What is shown is computed from the bytes about to be signed. */
	s_describe(&desc, f.have ? &f.cur : NULL, &m);
	kr_buf_addf(&desc, "署名済み: %zu\n", sm.nsigs);
	fputs(desc.ptr, stdout);
	if (!yes) {
		char line[64] = "";
		printf("この内容に %s として署名しますか? [y/N] ", c->h.cfg.name);
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin) || !(strcmp(line, "y\n") == 0 || strcmp(line, "yes\n") == 0 ||
		    strcmp(line, "はい\n") == 0)) {
			fprintf(stderr, _("kairan: federation sign: not signed (nothing was changed)\n"));
			goto done;
		}
	}
	if (kr_fed_sign(&sm, c->h.key) < 0 || s_write_file(path, &sm) < 0) {
		s_fail("sign");
		goto done;
	}
	printf(_("signed %s as %s (%zu signature%s now)\n"), path, c->h.cfg.name, sm.nsigs, sm.nsigs == 1 ? "" : "s");
	rc = 0;
done:
	kr_buf_release(&desc);
	kr_membership_clear(&m);
	kr_signed_multi_clear(&sm);
	kr_fedstore_close(&f);
	return rc;
}

/* ---- apply ----------------------------------------------------------- */

static int
s_apply(kr_cli *c, int argc, char **argv)
{
	kr_fedstore f;
	kr_buf b = KR_BUF_INIT;
	kr_fed_tally t = { { 0, 0, 0, KR_BUF_INIT }, { 0, 0, 0, KR_BUF_INIT } };
	char id[65];
	int rc;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(_(s_usage), stdout);
		return 0;
	}
	if (argc != 2)
		return s_usage_fail();
	if (kr_fedstore_open(&f, c->h.home) < 0)
		return s_fail("apply");
	if ((rc = kr_file_read(&b, argv[1])) == 0)
		rc = kr_fedstore_install(&f, b.ptr, b.len, &t);
	kr_buf_release(&b);
	if (rc < 0) {
		kr_fed_tally_release(&t);
		kr_fedstore_close(&f);
		fprintf(stderr, _("kairan: federation apply: %s: %s (nothing was changed)\n"), argv[1], kr_errmsg());
		return 1;
	}
	kr_fedstore_id_hex(&f, id);
	if (rc == KR_FED_HELD) {
		printf(_("%s: this version is already installed\n"), argv[1]);
	} else {
		printf(_("installed version %llu of %s (%zu of %zu board signatures)\nfederation id: %s\n"),
		    (unsigned long long)f.cur.version, f.cur.name, t.new_board.have, t.new_board.seats, id);
		if (kr_fed_installed(&c->h, &f) < 0)
			fprintf(stderr, _("kairan: federation apply: %s (the version is installed)\n"), kr_errmsg());
		if (kr_control_poke(&c->h, "federation", 1000) == 0)
			printf(_("the running node picked it up and announced it\n"));
	}
	kr_fed_tally_release(&t);
	kr_fedstore_close(&f);
	return 0;
}

/* ---- show ------------------------------------------------------------ */

static int
s_show(kr_cli *c, int argc, char **argv)
{
	kr_fedstore f;
	kr_buf out = KR_BUF_INIT, words = KR_BUF_INIT;
	char id[65], when[32], hex[KR_FPR_HEX + 1];
	int json = 0, stale;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(_(s_usage), stdout);
			return 0;
		} else
			return s_usage_fail();
	}
	if (kr_fedstore_open(&f, c->h.home) < 0)
		return s_fail("show");
	if (!f.have) {
		kr_fedstore_close(&f);
		if (json) {
			puts("{\"federation\":null}");
			return 0;
		}
		printf(_("this node is not in a federation (it follows publishers one by one)\n"));
		return 0;
	}
	kr_fedstore_id_hex(&f, id);
	kr_time_iso(when, f.cur.expires);
	stale = kr_fed_stale(&f.cur, kr_now());
	s_threshold_words(&words, f.cur.threshold, f.cur.nboard);
	if (json) {
		kr_buf_adds(&out, "{\"federation\":");
		kr_buf_addjson(&out, id);
		kr_buf_adds(&out, ",\"name\":");
		kr_buf_addjson(&out, f.cur.name);
		kr_buf_addf(&out, ",\"version\":%llu,\"expires\":", (unsigned long long)f.cur.version);
		kr_buf_addjson(&out, when);
		kr_buf_addf(&out, ",\"stale\":%s,\"threshold\":%u,\"board\":[", stale ? "true" : "false",
		    f.cur.threshold);
		for (size_t i = 0; i < f.cur.nboard; i++) {
			kr_hex(hex, f.cur.board[i].key, KR_FPR_LEN);
			kr_buf_adds(&out, i ? ",{\"key\":" : "{\"key\":");
			kr_buf_addjson(&out, hex);
			kr_buf_adds(&out, ",\"name\":");
			kr_buf_addjson(&out, f.cur.board[i].name);
			kr_buf_adds(&out, ",\"lg_code\":");
			kr_buf_addjson(&out, f.cur.board[i].lg_code);
			kr_buf_addch(&out, '}');
		}
		kr_buf_adds(&out, "],\"members\":[");
		for (size_t i = 0; i < f.cur.nmembers; i++) {
			const kr_fed_member *x = &f.cur.members[i];
			kr_hex(hex, x->key, KR_FPR_LEN);
			kr_buf_adds(&out, i ? ",{\"key\":" : "{\"key\":");
			kr_buf_addjson(&out, hex);
			kr_buf_adds(&out, ",\"name\":");
			kr_buf_addjson(&out, x->name);
			kr_buf_adds(&out, ",\"lg_code\":");
			kr_buf_addjson(&out, x->lg_code);
			kr_buf_adds(&out, ",\"roles\":[");
			s_roles_en(&out, x->roles);
			kr_buf_adds(&out, "],\"endpoints\":[");
			for (size_t j = 0; j < x->nendpoints; j++) {
				if (j)
					kr_buf_addch(&out, ',');
				kr_buf_addjson(&out, x->endpoints[j]);
			}
			kr_buf_adds(&out, "]}");
		}
		kr_buf_adds(&out, "],\"revoked\":[");
		for (size_t i = 0; i < f.cur.nrevoked; i++) {
			char since[32];
			kr_hex(hex, f.cur.revoked[i].key, KR_FPR_LEN);
			kr_time_iso(since, f.cur.revoked[i].since);
			kr_buf_adds(&out, i ? ",{\"key\":" : "{\"key\":");
			kr_buf_addjson(&out, hex);
			kr_buf_adds(&out, ",\"reason\":");
			kr_buf_addjson(&out, kr_revoke_reason_name(f.cur.revoked[i].reason));
			kr_buf_adds(&out, ",\"since\":");
			kr_buf_addjson(&out, since);
			if (f.cur.revoked[i].has_replacement) {
				kr_hex(hex, f.cur.revoked[i].replaced_by, KR_FPR_LEN);
				kr_buf_adds(&out, ",\"replaced_by\":");
				kr_buf_addjson(&out, hex);
			}
			kr_buf_addch(&out, '}');
		}
		kr_buf_adds(&out, "]}\n");
	} else {
		kr_buf_addf(&out, "連合:       %s\nfederation: %s\n版:         %llu\n有効期限:   %s%s\n", f.cur.name, id,
		    (unsigned long long)f.cur.version, when, stale ? " (期限切れ: 読み取り専用。ボードが --renew で更新します)" : "");
		kr_buf_addf(&out, "ボード:     %s\n", words.ptr);
		for (size_t i = 0; i < f.cur.nmembers; i++) {
			const kr_fed_member *x = &f.cur.members[i];
			kr_hex(hex, x->key, KR_FPR_LEN);
			kr_buf_addf(&out, "  %-10s %s  %s  %.16s…  %s\n", x->lg_code, x->name, s_role_ja(x->roles), hex,
			    x->nendpoints ? x->endpoints[0] : "");
		}
		for (size_t i = 0; i < f.cur.nrevoked; i++) {
			char since[32];
			kr_hex(hex, f.cur.revoked[i].key, KR_FPR_LEN);
			kr_time_iso(since, f.cur.revoked[i].since);
			kr_buf_addf(&out, "  失効 %.16s…  %s  %s\n", hex, f.cur.revoked[i].reason == KR_REVOKE_COMPROMISED ?
			    "漏えい (compromised)" : f.cur.revoked[i].has_replacement ? "鍵の交換 (retired)" : "退任 (retired)",
			    since);
		}
	}
	fputs(out.ptr, stdout);
	kr_buf_release(&out);
	kr_buf_release(&words);
	kr_fedstore_close(&f);
	return 0;
}

int
cmd_federation(kr_cli *c, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(_(s_usage), argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "create") == 0)
		return s_create(argc - 1, argv + 1);
	if (strcmp(argv[1], "propose") == 0)
		return s_propose(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "sign") == 0)
		return s_sign(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "apply") == 0)
		return s_apply(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return s_show(c, argc - 1, argv + 1);
	fprintf(stderr, _("kairan: federation: unknown subcommand '%s'\n"), argv[1]);
	return s_usage_fail();
}
