/*
 * node/cmd_config.c - kairan config check: the config and keys, as serve
 * would read them, every problem with file:line
 *
 * Also the unit's ExecStartPre (with --ports, the ports must be free), so
 * a broken config is reported before systemd starts anything. Reads only.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ports.h"

typedef struct {
	int n;
} s_report;

static void
s_problem(const char *msg, void *arg)
{
	s_report *r = arg;

	fprintf(stderr, _("%skairan: config check: %s\n"), log_prefix(3), msg);
	r->n++;
}

/* A key file as serve loads it (mode 0600, PEM PKCS#8, the right type); the transport key may be missing. */
static void
s_check_key(const char *home, const char *name, int optional, s_report *r)
{
	char *p = kr_sprintf("%s/keys/%s", home, name);
	kr_key *k = NULL;
	int rc = optional ? kr_tkey_load(&k, p) : kr_key_load(&k, p);

	if (rc < 0 && !(optional && rc == KR_ENOTFOUND))
		s_problem(kr_errmsg(), r);
	kr_error_clear();
	kr_key_destroy(&k);
	free(p);
}

/* http://HOST:PORT -> tcp://HOST:PORT, the form kr_port_check takes (caller frees). */
static char *
s_web_endpoint(const char *url)
{
	const char *rest = strncmp(url, "http://", 7) == 0 ? url + 7 : url;
	size_t n = strcspn(rest, "/");

	return kr_sprintf("tcp://%.*s", (int)n, rest);
}

static int
s_check(const char *home, int ports)
{
	char *path = kr_sprintf("%s/config", home);
	s_report r = { 0 };
	kr_config cfg;
	int rc = kr_config_check(path, s_problem, &r);

	if (rc < 0) {
		if (rc == KR_ENOTFOUND)
			fprintf(stderr, _("kairan: config check: %s is not a kairan home (no %s; create one with: "
			    "kairan --home %s init --name NAME --lg-code CODE)\n"), home, path, home);
		else
			fprintf(stderr, _("kairan: config check: %s\n"), kr_errmsg());
		free(path);
		return 1;
	}
	s_check_key(home, "node.ed25519", 0, &r);
	s_check_key(home, "node.x25519", 1, &r);
	if (r.n == 0 && kr_config_load(&cfg, path) == 0) {
		if (ports) {
			const char *eps[2] = { cfg.listen, cfg.announce };
			for (int i = 0; i < 2; i++)
				if (kr_port_check(eps[i]) < 0)
					s_problem(kr_errmsg(), &r);
			if (strcmp(cfg.web, "off") != 0) {
				char *ep = s_web_endpoint(cfg.web);
				if (kr_port_check(ep) < 0) {
					char *m = kr_sprintf("web %s", kr_errmsg());
					s_problem(m, &r);
					free(m);
				}
				free(ep);
			}
		}
		if (r.n == 0)
			printf(_("%s: ok (listen %s, announce %s, web %s%s)\n"), path, cfg.listen, cfg.announce, cfg.web,
			    ports ? "; the ports are free" : "");
		kr_config_clear(&cfg);
	}
	free(path);
	return r.n ? 1 : 0;
}

int
cmd_config(kr_cli *c, int argc, char **argv)
{
	int ports = 0, i;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		printf(_("usage: kairan [--home DIR] config check [--ports]\n\n"
		    "Checks the home's config (unknown or duplicate settings, values and\n"
		    "endpoints that do not parse, with file:line) and its keys, as serve\n"
		    "would read them. --ports: also that the listen, announce and web ports\n"
		    "are free (and who holds one that is not). Exit 1 on any problem.\n"));
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "check") != 0) {
		fprintf(stderr, _("kairan: config: unknown subcommand '%s' (known: check)\n"), argv[1]);
		return 2;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--ports") == 0)
			ports = 1;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return cmd_config(c, 2, (char *[]){ argv[0], argv[i] });
		else
			return kr_cli_usage("config");
	}
	return s_check(c->home_path, ports);
}
