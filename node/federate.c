/*
 * node/federate.c - this node's place in its federation (see federate.h)
 *
 * Everything here reads the chain from <home>/federation through
 * kr_fedstore, opened for the call: the files are the state, so the CLI
 * and the daemon's worker see one chain. Used by the replication worker
 * and by `kairan sync`/`join`, one thread at a time per kr_home.
 */
#include "federate.h"

#include <stdlib.h>
#include <string.h>

#include "../policies/item.h"
#include "keyrot.h"
#include "log.h"

static void
s_quarantine(kr_home *h, const char *peer, const char *why)
{
	if (kr_state_begin(h->state) == 0) {
		if (kr_state_quarantine_add(h->state, NULL, peer, NULL, 0, why) == 0)
			kr_state_commit(h->state);
		else
			kr_state_rollback(h->state);
	}
}

int
kr_fed_catch_up(kr_home *h, kr_conn *c, size_t *installed)
{
	kr_fedstore f;
	kr_buf *v = NULL;
	size_t n = 0;
	int rc;

	*installed = 0;
	if ((rc = kr_fedstore_open(&f, h->home)) < 0)
		return rc;
	if (!f.pinned)
		goto done;
	rc = kr_peer_chain(c, f.id, f.have ? f.cur.version : 0, &v, &n);
	if (rc == KR_ENOTFOUND) {
		/* not a member of this federation (or an older node): nothing to learn there */
		kr_error_clear();
		rc = 0;
		goto done;
	}
	if (rc < 0 || n == 0)
		goto done;
	if ((rc = kr_fedstore_install_chain(&f, NULL, v, n, installed)) < 0) {
		kr_error_prefix(rc, "peer %s", kr_conn_endpoint(c));
		char *why = kr_strdup(kr_errmsg());
		s_quarantine(h, kr_conn_endpoint(c), why);
		kr_error(rc, "%s", why);
		free(why);
		goto done;
	}
	if (*installed) {
		log_info("federation: membership version %llu installed from %s", (unsigned long long)f.cur.version,
		    kr_conn_endpoint(c));
		kr_fed_installed(h, &f);
	}
done:
	kr_bufs_free(v, n);
	kr_fedstore_close(&f);
	return rc;
}

static int
s_pref_ok(const kr_fed_join *j, const char *lg_code)
{
	if (j->nprefs == 0)
		return 1;
	for (size_t i = 0; i < j->nprefs; i++)
		if (strncmp(lg_code, j->prefs[i], 2) == 0)
			return 1;
	return 0;
}

int
kr_fed_wanted(kr_home *h, const char *endpoint, char *const *pubs, size_t npubs, char ***out, size_t *nout,
    int *joined)
{
	kr_fedstore f;
	kr_fed_join *j = NULL;
	size_t nj = 0;
	int rc;

	*out = kr_calloc(npubs + 1, sizeof(char *));
	*nout = 0;
	*joined = 0;
	for (size_t i = 0; i < npubs; i++)
		(*out)[(*nout)++] = kr_strdup(pubs[i]);
	if ((rc = kr_fedstore_open(&f, h->home)) < 0)
		return rc;
	if (f.have && (rc = kr_fedstore_joins(&f, &j, &nj)) == 0) {
		for (size_t k = 0; k < nj; k++) {
			if (strcmp(j[k].endpoint, endpoint) != 0)
				continue;
			*joined = 1;
			for (size_t i = 0; i < f.cur.nmembers; i++) {
				const kr_fed_member *m = &f.cur.members[i];
				char hex[KR_FPR_HEX + 1];
				kr_hex(hex, m->key, KR_FPR_LEN);
				if (!s_pref_ok(&j[k], m->lg_code) || strcmp(hex, h->fpr) == 0 || kr_strv_has(*out, *nout, hex))
					continue;
				*out = kr_realloc(*out, (*nout + 1) * sizeof(char *));
				(*out)[(*nout)++] = kr_strdup(hex);
			}
		}
	}
	kr_fed_joins_free(j, nj);
	kr_fedstore_close(&f);
	return rc;
}

int
kr_fed_hub_follow(kr_home *h, const kr_fedstore *f, size_t *added)
{
	const kr_fed_member *self;
	kr_fed_join *j = NULL;
	size_t nj = 0;
	int rc;

	*added = 0;
	if (!f->have || !(self = kr_fed_member_by_key(&f->cur, kr_key_pub(h->key))) || !(self->roles & KR_ROLE_HUB))
		return 0;
	if ((rc = kr_fedstore_joins(f, &j, &nj)) < 0)
		return rc;
	if ((rc = kr_state_begin(h->state)) < 0)
		goto done;
	for (size_t i = 0; i < f->cur.nmembers && rc == 0; i++) {
		const kr_fed_member *m = &f->cur.members[i];
		kr_fed_join one = { 0 };
		int known = 0;
		if (m == self || m->nendpoints == 0)
			continue;
		for (size_t k = 0; k < nj && !known; k++)
			known = strcmp(j[k].endpoint, m->endpoints[0]) == 0;
		if (known)
			continue;
		/*
		 * Through the federation, never a pin: whom the hub takes from there
		 * is the newest document's members, so a member removed or revoked
		 * later is trusted no more.
		 */
		one.endpoint = m->endpoints[0];
		if ((rc = kr_fedstore_join_put(f, &one)) == 0 &&
		    (rc = kr_state_follow(h->state, m->endpoints[0], NULL, 0)) == 0)
			(*added)++;
	}
	if (rc == 0 && *added && (rc = kr_home_save_follows(h)) == 0)
		log_info("federation: hub: replicating %zu more member endpoint(s)", *added);
	if (rc == 0)
		rc = kr_state_commit(h->state);
	else
		kr_state_rollback(h->state);
done:
	kr_fed_joins_free(j, nj);
	return rc;
}

int
kr_fed_installed(kr_home *h, const kr_fedstore *f)
{
	size_t added = 0, dropped = 0;
	int rc, rc2;

	if ((rc = kr_fed_hub_follow(h, f, &added)) < 0)
		log_warnx("federation: hub follows: %s", kr_errmsg());
	if ((rc2 = kr_replica_revocations(&h->rep, &dropped)) < 0)
		log_warnx("federation: revocations: %s", kr_errmsg());
	else if (dropped)
		log_info("federation: %zu collection(s) of compromised keys shown again as held before their "
		    "revocation (what arrived after left the view)", dropped);
	{
		/* this node's own key rotated by this version (kairan key rotate): say when it switches */
		kr_keyrot_state st;
		kr_keyrot_pending(h, &st);
		if (st.have && !st.damaged && st.applied)
			log_info("federation: version %llu rotates this node's key %.16s… to %.16s…: the node signs "
			    "with the new key from its next start (restart kairan serve)", (unsigned long long)f->cur.version,
			    h->fpr, st.fpr);
		else if (st.damaged)
			log_warnx("federation: %s", st.why);
		kr_keyrot_state_clear(&st);
	}
	return rc < 0 ? rc : rc2;
}

int
kr_fed_describe(kr_home *h, kr_buf *text, kr_buf *json)
{
	kr_fedstore f;
	char id[65], exp[32];
	int rc, stale;

	if ((rc = kr_fedstore_open(&f, h->home)) < 0)
		return rc;
	if (!f.have) {
		if (text && f.pinned) {
			kr_fedstore_id_hex(&f, id);
			kr_buf_addf(text, "federation %.16s… pinned, no membership document yet (kairan join)", id);
		}
		if (json)
			kr_buf_adds(json, "null");
		kr_fedstore_close(&f);
		return 0;
	}
	kr_fedstore_id_hex(&f, id);
	kr_time_iso(exp, f.cur.expires);
	stale = kr_fed_stale(&f.cur, kr_now());
	if (text)
		kr_buf_addf(text, stale ? "federation %s version %llu, stale since %s: read-only until the board "
		    "renews it (id %.16s…)" : "federation %s version %llu, current until %s (id %.16s…)",
		    f.cur.name, (unsigned long long)f.cur.version, exp, id);
	if (json) {
		kr_buf_adds(json, "{\"name\":");
		kr_buf_addjson(json, f.cur.name);
		kr_buf_adds(json, ",\"id\":");
		kr_buf_addjson(json, id);
		kr_buf_addf(json, ",\"version\":%llu,\"members\":%zu,\"expires\":", (unsigned long long)f.cur.version,
		    f.cur.nmembers);
		kr_buf_addjson(json, exp);
		kr_buf_addf(json, ",\"stale\":%s}", stale ? "true" : "false");
	}
	kr_fedstore_close(&f);
	return 0;
}

int
kr_fed_collections(kr_home *h, const char *endpoint, char ***colls, size_t *n)
{
	kr_fedstore f;
	kr_fed_join *j = NULL;
	size_t nj = 0;
	int rc;

	*colls = NULL;
	*n = 0;
	if ((rc = kr_fedstore_open(&f, h->home)) < 0)
		return rc;
	if ((rc = kr_fedstore_joins(&f, &j, &nj)) == 0)
		for (size_t k = 0; k < nj; k++) {
			if (strcmp(j[k].endpoint, endpoint) != 0 || j[k].nkinds == 0)
				continue;
			*colls = kr_calloc(j[k].nkinds + 1, sizeof(char *));
			for (size_t i = 0; i < j[k].nkinds; i++) {
				const char *coll = kr_kind_collection(j[k].kinds[i]);
				if (!coll) {
					/* the file was edited by hand: hold nothing rather than guess */
					log_warnx("federation/joined: %s: unknown kind '%s' (left out)", endpoint, j[k].kinds[i]);
					continue;
				}
				if (!kr_strv_has(*colls, *n, coll))
					(*colls)[(*n)++] = kr_strdup(coll);
			}
		}
	kr_fed_joins_free(j, nj);
	kr_fedstore_close(&f);
	return rc;
}

int
kr_fed_joined_through(kr_home *h, const char *endpoint, kr_buf *prefs, kr_buf *kinds)
{
	kr_fedstore f;
	kr_fed_join *j = NULL;
	size_t nj = 0;
	int joined = 0;

	if (kr_fedstore_open(&f, h->home) < 0) {
		kr_error_clear();
		return 0;
	}
	if (kr_fedstore_joins(&f, &j, &nj) == 0)
		for (size_t k = 0; k < nj && !joined; k++)
			if (strcmp(j[k].endpoint, endpoint) == 0) {
				joined = 1;
				for (size_t i = 0; prefs && i < j[k].nprefs; i++)
					kr_buf_addf(prefs, "%s%s", i ? "," : "", j[k].prefs[i]);
				for (size_t i = 0; kinds && i < j[k].nkinds; i++)
					kr_buf_addf(kinds, "%s%s", i ? "," : "", j[k].kinds[i]);
			}
	kr_error_clear();
	kr_fed_joins_free(j, nj);
	kr_fedstore_close(&f);
	return joined;
}

char *
kr_fed_unserved(kr_home *h, const char *endpoint)
{
	char *key = kr_sprintf("unserved %s", endpoint), *v = kr_state_setting(h->state, key);

	free(key);
	kr_error_clear();
	if (v && !*v) {
		free(v);
		v = NULL;
	}
	return v;
}
