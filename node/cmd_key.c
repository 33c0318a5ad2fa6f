/*
 * node/cmd_key.c - kairan key export / key import: the node's identity,
 * encrypted under a passphrase, for safekeeping off the machine
 *
 * export writes the signing key and the transport key as encrypted PKCS#8
 * (sharing/sign.c); import makes a NEW home around them (like init), so an
 * identity is never swapped under a home that already published as
 * another. A wrong passphrase, or anything else wrong, writes nothing.
 *
 * rotate makes this node's next keys beside its current ones
 * (node/keyrot.h): the node switches to them once the membership it holds
 * rotates the current key to the new one, or at once with --now.
 */
#include "cli.h"
#include "keyrot.h"
#include "../sharing/federation.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PASS_MIN 8

/* The passphrase: the first line of path, without its newline (caller frees). */
static int
s_passphrase(const char *path, char **out)
{
	kr_buf b = KR_BUF_INIT;
	int rc;

	*out = NULL;
	if ((rc = kr_file_read(&b, path)) < 0)
		return kr_error_prefix(rc, "--passphrase-file");
	b.len = strcspn(b.ptr, "\r\n");
	b.ptr[b.len] = '\0';
	if (b.len == 0) {
		kr_buf_release(&b);
		return kr_error(KR_EUSAGE, "--passphrase-file %s: the first line (the passphrase) is empty", path);
	}
	*out = kr_buf_detach(&b);
	return 0;
}

static void
s_wipe_free(char *s)
{
	if (s) {
		volatile char *v = s;
		while (*v)
			*v++ = '\0';
		free(s);
	}
}

static int
s_export(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "passphrase-file", required_argument, NULL, 'p' }, { "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *passfile = NULL, *output = NULL;
	char *pass = NULL, *p = NULL;
	kr_key *k = NULL, *tk = NULL;
	kr_buf pem = KR_BUF_INIT;
	int o, rc = 1;

	optind = 0;
	while ((o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (o) {
		case 'p': passfile = optarg; break;
		case 'o': output = optarg; break;
		case 'h':
			printf(_("usage: kairan [--home DIR] key export --passphrase-file FILE [-o OUT]\n\n"
			    "Writes this node's signing and transport keys, encrypted (PKCS#8, AES-256)\n"
			    "under the passphrase on FILE's first line (at least %d characters), to OUT\n"
			    "(created with mode 0600; it must not exist) or standard output. Keep it\n"
			    "off this machine; `kairan key import` makes a home from it.\n"), PASS_MIN);
			return 0;
		default: return kr_cli_usage("key");
		}
	}
	if (!passfile || optind != argc) {
		fprintf(stderr, _("kairan: key export: --passphrase-file FILE is required\n"));
		return 2;
	}
	if (s_passphrase(passfile, &pass) < 0) {
		kr_cli_fail("key export");
		return 2;
	}
	if (strlen(pass) < PASS_MIN) {
		fprintf(stderr, _("kairan: key export: the passphrase in %s is shorter than %d characters\n"),
		    passfile, PASS_MIN);
		rc = 2;
		goto done;
	}
	p = kr_sprintf("%s/keys/node.ed25519", c->home_path);
	if (kr_key_load(&k, p) < 0)
		goto fail;
	free(p);
	p = kr_sprintf("%s/keys/node.x25519", c->home_path);
	{
		int trc = kr_tkey_load(&tk, p);
		if (trc < 0 && trc != KR_ENOTFOUND)
			goto fail;
	}
	kr_error_clear();
	if (kr_key_export(&pem, k, tk, pass) < 0)
		goto fail;
	if (output) {
		int fd = open(output, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		ssize_t w = -1;
		if (fd < 0) {
			kr_error(KR_EIO, "%s: %s%s", output, strerror(errno),
			    errno == EEXIST ? " (an export is never overwritten: choose another name)" : "");
			goto fail;
		}
		w = write(fd, pem.ptr, pem.len);
		if (w != (ssize_t)pem.len || fsync(fd) < 0) {
			kr_error(KR_EIO, "%s: %s", output, strerror(errno));
			close(fd);
			unlink(output);
			goto fail;
		}
		close(fd);
		{
			char fpr[KR_FPR_HEX + 1];
			kr_hex(fpr, kr_key_pub(k), KR_FPR_LEN);
			fprintf(stderr, _("kairan: key export: the keys of %s are in %s, encrypted; keep it and "
			    "the passphrase apart, off this machine\n"), fpr, output);
		}
	} else {
		fwrite(pem.ptr, 1, pem.len, stdout);
	}
	rc = 0;
	goto done;
fail:
	kr_cli_fail("key export");
done:
	s_wipe_free(pass);
	free(p);
	kr_key_destroy(&k);
	kr_key_destroy(&tk);
	kr_buf_release(&pem);
	return rc;
}

static int
s_import(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "passphrase-file", required_argument, NULL, 'p' }, { "name", required_argument, NULL, 'n' },
		{ "lg-code", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *passfile = NULL, *name = NULL, *code = NULL;
	char *pass = NULL, fpr[KR_FPR_HEX + 1];
	kr_key *k = NULL, *tk = NULL;
	kr_buf pem = KR_BUF_INIT;
	int o, rc = 1;

	optind = 0;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'p': passfile = optarg; break;
		case 'n': name = optarg; break;
		case 'c': code = optarg; break;
		case 'h':
			printf(_("usage: kairan [--home DIR] key import FILE --passphrase-file PF --name NAME --lg-code CODE\n\n"
			    "Creates a new home (like init) around the keys `kairan key export` wrote\n"
			    "to FILE. Refuses a home that exists. Follow a peer that mirrors this\n"
			    "publisher and sync before publishing, so the next seq is above the last.\n"));
			return 0;
		default: return kr_cli_usage("key");
		}
	}
	if (!passfile || !name || !code || optind != argc - 1) {
		fprintf(stderr, _("kairan: key import: FILE, --passphrase-file, --name and --lg-code are required\n"));
		return 2;
	}
	if (s_passphrase(passfile, &pass) < 0) {
		kr_cli_fail("key import");
		return 2;
	}
	if (kr_file_read(&pem, argv[optind]) < 0 || kr_key_import(pem.ptr, pem.len, pass, &k, &tk) < 0) {
		kr_error_prefix(KR_ERROR, "%s", argv[optind]);
		goto fail;
	}
	if ((rc = kr_home_init_keys(c->home_path, name, code, k, tk)) < 0) {
		kr_cli_fail("key import");
		rc = rc == KR_EUSAGE ? 2 : 1;
		goto done;
	}
	kr_hex(fpr, kr_key_pub(k), KR_FPR_LEN);
	printf(_("imported %s into a new home %s (%s, %s)\n"), fpr, c->home_path, name, code);
	printf(_("next: kairan --home %s follow ENDPOINT --publisher %s; kairan --home %s sync  (learn the last seq "
	    "before publishing)\n"), c->home_path, fpr, c->home_path);
	rc = 0;
	goto done;
fail:
	rc = kr_cli_fail("key import");
done:
	s_wipe_free(pass);
	kr_key_destroy(&k);
	kr_key_destroy(&tk);
	if (pem.len)
		memset(pem.ptr, 0, pem.len);
	kr_buf_release(&pem);
	return rc;
}

/* `kairan id --json` of the pending keys, for the board's `federation propose --rotate OLD NEW-ID.json`. */
static void
s_idcard(kr_buf *out, const kr_home *h, const kr_key *k, const kr_key *tk)
{
	char fpr[KR_FPR_HEX + 1], tkey[65], *endpoint;
	kr_buf ssh = KR_BUF_INIT;

	kr_hex(fpr, kr_key_pub(k), KR_FPR_LEN);
	kr_hex(tkey, kr_key_pub(tk), 32);
	kr_ssh_pubkey(&ssh, kr_key_pub(k));
	endpoint = kr_sprintf("%s#%s", h->cfg.listen, tkey);
	kr_buf_adds(out, "{\"fingerprint\":");
	kr_buf_addjson(out, fpr);
	kr_buf_adds(out, ",\"ssh\":");
	kr_buf_addjson(out, ssh.ptr);
	kr_buf_adds(out, ",\"transport_key\":");
	kr_buf_addjson(out, tkey);
	kr_buf_adds(out, ",\"name\":");
	kr_buf_addjson(out, h->cfg.name);
	kr_buf_adds(out, ",\"lg_code\":");
	kr_buf_addjson(out, h->cfg.lg_code);
	kr_buf_adds(out, ",\"listen\":");
	kr_buf_addjson(out, h->cfg.listen);
	kr_buf_adds(out, ",\"announce\":");
	kr_buf_addjson(out, h->cfg.announce);
	kr_buf_adds(out, ",\"endpoint\":");
	kr_buf_addjson(out, endpoint);
	kr_buf_adds(out, ",\"rotates\":");
	kr_buf_addjson(out, h->fpr);
	kr_buf_adds(out, "}\n");
	free(endpoint);
	kr_buf_release(&ssh);
}

/* Writes text to a new file (never over one). */
static int
s_write_new(const char *path, const kr_buf *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		return kr_error(KR_EIO, "%s: %s%s", path, strerror(errno),
		    errno == EEXIST ? " (never overwritten: choose another name)" : "");
	if (write(fd, text->ptr, text->len) != (ssize_t)text->len || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(path);
		return kr_error(KR_EIO, "%s: %s", path, strerror(e));
	}
	close(fd);
	return 0;
}

/* The pending keys of an open home, with what they are waiting for; 0 when switched or switching now. */
static int
s_rotate_report(kr_cli *c, int now)
{
	kr_keyrot_state st;
	int rc = 0;

	kr_keyrot_pending(&c->h, &st);
	if (!st.have) {
		printf(_("this node signs as %s (the rotation is done)\n"), c->h.fpr);
	} else if (st.damaged || st.daemon || (!st.now && !st.applied) || now) {
		fprintf(stderr, _("kairan: key rotate: %s\n"), st.why ? st.why : "the switch did not happen");
		rc = st.daemon ? 0 : 1;
	}
	kr_keyrot_state_clear(&st);
	return rc;
}

/*
 * A daemon running on the home makes a due switch itself: told by the open
 * (kr_keyrot_pending), it restarts and its own open switches. Waits for
 * that, up to 15 s; 0 at once when no daemon shows (no control socket for
 * 3 s: the old one is gone and no new one came).
 */
static int
s_daemon_switched(kr_cli *c, const char *ped)
{
	char *sock = kr_sprintf("%s/control.sock", c->home_path);
	double start = kr_monotonic_ms(), seen = start;
	int switched = 0;

	while (kr_monotonic_ms() - start < 15000 && kr_monotonic_ms() - seen < 3000) {
		if (access(ped, F_OK) != 0) {
			switched = 1;
			break;
		}
		if (access(sock, F_OK) == 0)
			seen = kr_monotonic_ms();
		usleep(100 * 1000);
	}
	free(sock);
	return switched;
}

static int
s_rotate(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' }, { "now", no_argument, NULL, 'n' },
		{ "id", no_argument, NULL, 'i' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *output = NULL;
	int o, now = 0, id_only = 0, rc = 1, opened = 0, made_tx = 0, made_out = 0;
	char *ped = NULL, *ptx = NULL, *ted = NULL, *ttx = NULL, *pnow = NULL, old[KR_FPR_HEX + 1];
	kr_key *k = NULL, *tk = NULL;
	kr_keyrot_state st = { 0 };
	kr_buf card = KR_BUF_INIT;

	optind = 0;
	while ((o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (o) {
		case 'o': output = optarg; break;
		case 'n': now = 1; break;
		case 'i': id_only = 1; break;
		case 'h':
			printf(_("usage: kairan [--home DIR] key rotate [-o NEW-ID.json] [--now]\n"
			    "       kairan [--home DIR] key rotate --id [-o NEW-ID.json]\n\n"
			    "Makes this node's next signing and transport keys (keys/rotate.*) and writes\n"
			    "their `kairan id --json` to NEW-ID.json (or standard output) for the board:\n"
			    "  kairan federation propose --rotate OLD-FPR NEW-ID.json\n"
			    "The node goes on signing with its current key until the membership version\n"
			    "that carries the rotation is applied here (federation apply, or sync); then\n"
			    "it continues the same collections under the new key, seq continuing, and\n"
			    "keeps the old key under keys/retired/. --now switches at once (a node\n"
			    "outside any federation). Run again, it says what is pending; --id writes\n"
			    "the pending key's ID again.\n"));
			return 0;
		default: return kr_cli_usage("key");
		}
	}
	if (optind != argc)
		return kr_cli_usage("key");
	if (kr_home_open(&c->h, c->home_path) < 0)
		return kr_cli_fail("key rotate");
	opened = 1;
	strcpy(old, c->h.fpr);
	ped = kr_sprintf("%s/keys/rotate.ed25519", c->home_path);
	ptx = kr_sprintf("%s/keys/rotate.x25519", c->home_path);
	pnow = kr_sprintf("%s/keys/rotate.now", c->home_path);
	kr_keyrot_pending(&c->h, &st);
	if (st.have) {
		if (st.damaged) {
			fprintf(stderr, _("kairan: key rotate: %s\n"), st.why);
			goto done;
		}
		if (id_only) {
			if (kr_key_load(&k, ped) < 0 || kr_tkey_load(&tk, ptx) < 0)
				goto fail;
			s_idcard(&card, &c->h, k, tk);
			if (output ? s_write_new(output, &card) < 0 : fputs(card.ptr, stdout) < 0)
				goto fail;
			rc = 0;
			goto done;
		}
		if (!now) {
			fprintf(stderr, _("kairan: key rotate: %s\n"), st.why ? st.why : "a rotation is pending");
			goto done;
		}
		goto switch_now;
	}
	if (id_only) {
		fprintf(stderr, _("kairan: key rotate: no rotation is pending (keys/rotate.ed25519 does not exist)\n"));
		goto done;
	}
	/* all or nothing: the keys aside, the ID written, then linked into place (rotate.ed25519 last) */
	ted = kr_sprintf("%s.%d", ped, (int)getpid());
	ttx = kr_sprintf("%s.%d", ptx, (int)getpid());
	unlink(ted);
	unlink(ttx);
	if (kr_key_generate(&k) < 0 || kr_tkey_generate(&tk) < 0 || kr_key_save(k, ted) < 0 || kr_key_save(tk, ttx) < 0)
		goto fail;
	s_idcard(&card, &c->h, k, tk);
	if (output) {
		if (s_write_new(output, &card) < 0)
			goto fail;
		made_out = 1;
	}
	if (link(ttx, ptx) < 0) {
		kr_error(KR_EIO, "%s: %s", ptx, strerror(errno));
		goto fail;
	}
	made_tx = 1;
	if (now && kr_file_write(pnow, "", 0, 0600) < 0)
		goto fail;
	if (link(ted, ped) < 0) {
		kr_error(KR_EIO, "%s: %s", ped, strerror(errno));
		unlink(pnow);
		goto fail;
	}
	made_tx = made_out = 0;
	if (!output)
		fputs(card.ptr, stdout);
	{
		char fpr[KR_FPR_HEX + 1];
		kr_hex(fpr, kr_key_pub(k), KR_FPR_LEN);
		if (!now) {
			fprintf(stderr, _("kairan: key rotate: the next key %s is made (keys/rotate.*); this node signs as %s "
			    "until the membership rotates it.\nnext: give %s to the board: kairan federation propose --rotate "
			    "%s %s -o FILE; sign it to its threshold; apply it here (kairan federation apply FILE)\n"), fpr, old,
			    output ? output : "the ID above", old, output ? output : "NEW-ID.json");
			rc = 0;
			goto done;
		}
	}
switch_now:
	if (kr_file_write(pnow, "", 0, 0600) < 0)
		goto fail;
	kr_home_close(&c->h);
	opened = 0;
	if (kr_home_open(&c->h, c->home_path) < 0)
		goto fail;
	opened = 1;
	if (strcmp(c->h.fpr, old) == 0 && s_daemon_switched(c, ped)) {
		kr_home_close(&c->h);
		opened = 0;
		if (kr_home_open(&c->h, c->home_path) < 0)
			goto fail;
		opened = 1;
	}
	if (strcmp(c->h.fpr, old) != 0) {
		kr_state_manifest m;
		unsigned long long seq = 0;
		if (kr_state_manifest_get(c->h.state, c->h.fpr, &m) == 0) {
			seq = (unsigned long long)m.seq;
			kr_state_manifest_clear(&m);
		}
		kr_error_clear();
		printf(_("this node signs as %s now (was %s, kept in keys/retired/); its collections continue, manifest "
		    "seq %llu\n"), c->h.fpr, old, seq);
		if (kr_replica_federation(&c->h.rep) && !kr_fed_member_by_key(kr_replica_federation(&c->h.rep),
		    kr_key_pub(c->h.key)))
			fprintf(stderr, _("kairan: key rotate: warning: the membership this node holds does not list %s yet: "
			    "the federation's nodes refuse its manifests until the board applies `federation propose "
			    "--rotate %s NEW-ID.json`\n"), c->h.fpr, old);
		rc = 0;
	} else {
		rc = s_rotate_report(c, 1);
	}
	goto done;
fail:
	if (made_tx)
		unlink(ptx);
	if (made_out)
		unlink(output);
	kr_cli_fail("key rotate");
	rc = 1;
done:
	if (ted) {
		unlink(ted);
		unlink(ttx);
	}
	kr_keyrot_state_clear(&st);
	kr_buf_release(&card);
	kr_key_destroy(&k);
	kr_key_destroy(&tk);
	if (opened)
		kr_home_close(&c->h);
	free(ped);
	free(ptx);
	free(ted);
	free(ttx);
	free(pnow);
	return rc;
}

int
cmd_key(kr_cli *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "export") == 0)
		return s_export(c, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "import") == 0)
		return s_import(c, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "rotate") == 0)
		return s_rotate(c, argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf(_("usage: kairan [--home DIR] key export --passphrase-file FILE [-o OUT]\n"
		    "       kairan [--home DIR] key import FILE --passphrase-file PF --name NAME --lg-code CODE\n"
		    "       kairan [--home DIR] key rotate [-o NEW-ID.json] [--now] [--id]\n\n"
		    "The node's keys, encrypted under a passphrase, for safekeeping; rotate makes\n"
		    "the next key, used once the board's membership rotates to it.\n"));
		return 0;
	}
	fprintf(stderr, _("kairan: key: say export, import or rotate (see: kairan key --help)\n"));
	return 2;
}
