/*
 * node/cmd_transport.c - `kairan admit` and `kairan unpin`: who may connect
 * to this node besides the federation's members, and forgetting a peer's
 * pinned transport key (node/transport.c keeps both files)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../policies/idcard.h"
#include "cli.h"
#include "transport.h"

static void
s_print_line(const char *line, void *arg)
{
	(void)arg;
	printf("%s\n", line);
}

int
cmd_admit(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "remove", required_argument, NULL, 'r' }, { "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *remove = NULL;
	int o, list = 0;
	kr_idcard card;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'r': remove = optarg; break;
		case 'l': list = 1; break;
		case 'h':
			printf(_("usage: kairan [--home DIR] admit ID.json | --remove KEY|FPR | --list\n\n"
			    "Lets the node whose identity card (kairan id --json) is ID.json connect to this\n"
			    "one, beside the federation's current members (outside a federation: when\n"
			    "transport.admit = listed). A running node applies it at the next connection.\n"));
			return 0;
		default: return kr_cli_usage("admit");
		}
	}
	if (list + (remove != NULL) + (optind < argc) != 1 || optind + (optind < argc) != argc)
		return kr_cli_usage("admit");
	if (list)
		return kr_admit_list(c->h.home, s_print_line, NULL) < 0 ? kr_cli_fail("admit") : 0;
	if (remove) {
		if (!kr_is_hex(remove, 64)) {
			fprintf(stderr, _("kairan: admit: --remove '%s' is neither a transport key nor a fingerprint "
			    "(64 hex digits; see kairan admit --list)\n"), remove);
			return 2;
		}
		if (kr_admit_remove(c->h.home, remove) < 0)
			return kr_cli_fail("admit");
		printf(_("no longer admitted: %s\n"), remove);
		return 0;
	}
	if (kr_idcard_read(&card, argv[optind]) < 0)
		return kr_cli_fail("admit");
	if (kr_admit_add(c->h.home, card.transport, card.key, card.lg_code, card.name) < 0) {
		kr_idcard_clear(&card);
		return kr_cli_fail("admit");
	}
	{
		char key[65];
		kr_hex(key, card.transport, 32);
		printf(_("admitted %s (%s): transport key %s\n"), card.name, card.lg_code, key);
	}
	kr_idcard_clear(&card);
	return 0;
}

int
cmd_unpin(kr_cli *c, int argc, char **argv)
{
	(void)c;
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf(_("usage: kairan [--home DIR] unpin ENDPOINT\n\nForgets the transport key pinned for ENDPOINT; "
		    "the next contact learns it again\n(introduction, trust on first use). To give the key "
		    "instead: kairan follow 'ENDPOINT#KEY' ...\n"));
		return 0;
	}
	if (argc != 2)
		return kr_cli_usage("unpin");
	if (kr_transport_unpin(argv[1]) < 0)
		return kr_cli_fail("unpin");
	printf(_("forgot the transport key of %s\n"), argv[1]);
	return 0;
}
