/*
 * node/cmd_key.c - kairan key export / key import: the node's identity,
 * encrypted under a passphrase, for safekeeping off the machine
 *
 * export writes the signing key and the transport key as encrypted PKCS#8
 * (sharing/sign.c); import makes a NEW home around them (like init), so an
 * identity is never swapped under a home that already published as
 * another. A wrong passphrase, or anything else wrong, writes nothing.
 */
#include "cli.h"

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

int
cmd_key(kr_cli *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "export") == 0)
		return s_export(c, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "import") == 0)
		return s_import(c, argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf(_("usage: kairan [--home DIR] key export --passphrase-file FILE [-o OUT]\n"
		    "       kairan [--home DIR] key import FILE --passphrase-file PF --name NAME --lg-code CODE\n\n"
		    "The node's keys, encrypted under a passphrase, for safekeeping.\n"));
		return 0;
	}
	fprintf(stderr, _("kairan: key: say export or import (see: kairan key --help)\n"));
	return 2;
}
