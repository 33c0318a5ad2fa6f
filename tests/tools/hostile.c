/*
 * tests/tools/hostile.c - a peer that speaks the protocol and lies
 *
 * Holds a real publisher's home (so it can sign as that publisher) and
 * answers hello/snapshot/fetch like a node, except in the way --mode says:
 *
 *   honest      the publisher's real manifest and packs
 *   badsig      a new manifest (seq+1) with one bit of its signature flipped
 *   replay      a validly signed manifest with seq-1
 *   equivocate  a second, different manifest with the current seq
 *   expired     a new manifest (seq+1) that expired an hour ago
 *   nonff       a new manifest whose head is a new root commit (history rewritten)
 *   otherkey    a new head commit signed by a key that is not the publisher's
 *   truncated   a new head, but the pack is cut short
 *   oversize    a new head, but the manifest allows fewer bytes than the pack
 *   inlinejunk  a new head, announced first with an InlinePacks whose pack
 *               for it is random bytes (the fetch serves the real one)
 *   inlinegarbage  a new head, announced first with random bytes where the
 *               InlinePacks go
 *   inlinelie   a new head, announced first with an InlinePacks whose pack
 *               is a whole valid pack of the old head: it lacks the new
 *               objects (the fetch serves the real one)
 *   inlinestale two new commits, the second announced with its own pack
 *               (its new objects alone, as a publisher's node sends it)
 *               from the first, which was never announced: a town is two
 *               behind and must fetch
 *               (each inline mode moves the publisher home's ref to its new
 *               head, a seq and an item version past the one before, in
 *               this order)
 *   garbage     random bytes for every reply and announcement
 *   confidential  a correctly signed new commit with a 機密性2 item (the
 *               publisher bypassed its own policy)
 *   mynumber    a correctly signed new commit whose item carries a マイナンバー
 *   craft       a correctly signed new commit whose tree is built here, byte
 *               by byte, from the options below (the publisher's files stay
 *               unless replaced), served as a pack written here:
 *     --file PATH=LOCALFILE  LOCALFILE's bytes at PATH (repeatable; any bytes,
 *                            any path)
 *     --deep N               a tree nested N directories deep: d/d/…/d/x.md
 *     --wide N               w/ holding N trees, each the same N trees, each
 *                            the same N files: N³ paths in a few KB of trees
 *     --hide                 the crafted tree in a commit before the head; the
 *                            head puts the publisher's tree back
 *     --pack LOCALFILE       serve these bytes as the pack instead (with the
 *                            crafted head, or --head HEX)
 *
 * Every mode but garbage also announces its manifest on PUB each second,
 * so a running node that follows this peer applies it without a sync.
 *
 * Usage: hostile --home PUBHOME --listen EP --announce EP --mode MODE [craft options]
 *        hostile --home PUBHOME --listen EP --announce EP --flood MS [--flood-kb KB]
 * Runs until killed. Test code: exits on any setup error.
 *
 * --flood MS (instead of --mode) is a relay gone bad: every MS ms it signs
 * a new manifest (seq one higher each time) whose cases head is a commit
 * signed by another key carrying KB (default 1024) of random bytes, so
 * every subscriber fetches a pack and then refuses it; it announces each
 * one and sends beacons with a changing digest, so subscribers also ask
 * for snapshots in between. SIGUSR1 stops signing new ones; the beacons
 * go on, re-offering the last. stderr logs "flood: seq +N", "snapshot"
 * and "fetch" lines, for tests to count.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "../../node/home.h"
#include "../../node/transport.h"
#include "../../proto/codec.h"
#include "../../sharing/manifest.h"

static const char *mode;
static kr_home pubh;
static kr_store *scratch;       /* for the rewritten history of nonff */
static kr_buf manifest;         /* Signed bytes to offer */
static char coll[64] = "cases";
static uint8_t newhead[KR_OID_LEN];
static int have_newhead;

/* craft mode */
typedef struct {
	char *path, *local;
} s_craft_file;
static s_craft_file craft_files[64];
static size_t ncraft_files;
static long deep_n, wide_n;
static int hide;
static const char *pack_file, *head_hex;
static kr_buf craftpack;        /* served for newhead when set */
static int have_craftpack;
static kr_buf inlined;          /* the inline* modes: what goes with the manifest on "m/" + fpr + "+" */
static kr_buf *commit_pack;     /* not NULL: new_commit_with keeps the new commit's own pack there */

static void
die(const char *what)
{
	fprintf(stderr, "hostile: %s: %s\n", what, kr_errmsg());
	exit(3);
}

/* The publisher's current manifest, re-signed with changes. */
static void
craft(int64_t seq_delta, int64_t expires_delta, const uint8_t *head, uint64_t size)
{
	kr_state_manifest cur;
	kr_signed s;
	kr_manifest m;

	if (kr_state_manifest_get(pubh.state, pubh.fpr, &cur) < 0)
		die("no manifest");
	if (kr_signed_decode(&s, cur.signed_bytes.ptr, cur.signed_bytes.len) < 0 ||
	    kr_manifest_decode(&m, s.body.ptr, s.body.len) < 0)
		die("decode");
	m.seq = (uint64_t)((int64_t)m.seq + seq_delta);
	m.issued = kr_now() - 60;
	m.expires = expires_delta < 0 ? kr_now() - 3600 : kr_now() + 86400 + expires_delta;
	for (size_t i = 0; i < m.nheads; i++)
		if (head && strcmp(m.heads[i].collection, coll) == 0) {
			memcpy(m.heads[i].commit, head, KR_OID_LEN);
			if (size)
				m.heads[i].size = size;
		}
	kr_buf_clear(&manifest);
	if (kr_manifest_sign(&manifest, &m, pubh.key) < 0)
		die("sign");
	kr_manifest_clear(&m);
	kr_signed_clear(&s);
	kr_state_manifest_clear(&cur);
}

static void new_commit_with(const kr_key *key, kr_store *store, const char *item);
static void garbage(kr_buf *b);

static void
new_commit(const kr_key *key, kr_store *store)
{
	new_commit_with(key, store, NULL);
}

static void
new_commit_with(const kr_key *key, kr_store *store, const char *custom)
{
	static const char item[] =
		"---\nkind: case\nid: 372081/case/hostile-extra\ntitle: 追加された事例\n"
		"publisher: {lg_code: \"372081\", name: 三豊市}\nversion: 1.0.0\npublished: 2024-06-01\n"
		"updated: 2024-06-01\nlicense: PDL-1.0\nconfidentiality: 機密性1\ndomains: [住民問合せ対応]\n"
		"ai_uses: [対話生成]\nsources: [{title: 資料, issuer: 三豊市}]\n---\n本文\n";
	kr_store_file f = { "cases/hostile-extra.md", custom ? custom : item, custom ? strlen(custom) : sizeof(item) - 1 };
	int changed;

	if (kr_store_commit(store, pubh.fpr, coll, &f, 1, "extra\n", "三豊市", "x@kairan.invalid",
	    key, newhead, &changed, commit_pack) < 0 || !changed)
		die("commit");
	have_newhead = 1;
}

/* ---- craft: git objects and a pack, written here ------------------------ */

enum { OBJ_COMMIT = 1, OBJ_TREE = 2, OBJ_BLOB = 3 };

static kr_buf entries;          /* pack entries so far */
static uint32_t nentries;

/* zlib stream of stored (uncompressed) blocks: no zlib needed to make it */
static void
zstored(kr_buf *out, const uint8_t *d, size_t len)
{
	uint32_t a = 1, b = 0;

	kr_buf_addch(out, 0x78);
	kr_buf_addch(out, 0x01);
	for (size_t i = 0; i < len; i++) {
		a = (a + d[i]) % 65521;
		b = (b + a) % 65521;
	}
	do {
		size_t n = len > 65535 ? 65535 : len;
		uint8_t h[5] = { len <= 65535, (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)~n, (uint8_t)(~n >> 8) };
		kr_buf_add(out, h, 5);
		kr_buf_add(out, d, n);
		d += n;
		len -= n;
	} while (len);
	{
		uint32_t adler = b << 16 | a;
		uint8_t t[4] = { (uint8_t)(adler >> 24), (uint8_t)(adler >> 16), (uint8_t)(adler >> 8), (uint8_t)adler };
		kr_buf_add(out, t, 4);
	}
}

/* Adds a git object to the pack and returns its id. */
static void
obj_add(int type, const void *data, size_t len, uint8_t id[KR_OID_LEN])
{
	static const char *const names[] = { "", "commit", "tree", "blob" };
	char hdr[64];
	int hl = snprintf(hdr, sizeof(hdr), "%s %zu", names[type], len);
	kr_sha1 *h = kr_sha1_new();
	size_t n = len;
	uint8_t c = (uint8_t)(type << 4 | (n & 15));

	kr_sha1_update(h, hdr, (size_t)hl + 1);
	kr_sha1_update(h, data, len);
	kr_sha1_final(&h, id);
	for (n >>= 4; n; n >>= 7) {
		kr_buf_addch(&entries, (char)(c | 0x80));
		c = n & 0x7f;
	}
	kr_buf_addch(&entries, (char)c);
	zstored(&entries, data, len);
	nentries++;
}

/* As obj_add, but once per id (a pack must not hold an object twice). */
static void
obj_once(int type, const void *data, size_t len, uint8_t id[KR_OID_LEN])
{
	static uint8_t (*seen)[KR_OID_LEN];
	static size_t nseen;
	size_t mark = entries.len;

	obj_add(type, data, len, id);
	for (size_t i = 0; i < nseen; i++)
		if (memcmp(seen[i], id, KR_OID_LEN) == 0) {
			entries.len = mark; /* drop the copy just written */
			nentries--;
			return;
		}
	seen = kr_realloc(seen, (nseen + 1) * sizeof(*seen));
	memcpy(seen[nseen++], id, KR_OID_LEN);
}

/* One tree entry: "MODE NAME\0" and the 20-byte id. */
static void
tree_entry(kr_buf *t, int is_tree, const char *name, const uint8_t id[KR_OID_LEN])
{
	kr_buf_addf(t, "%s %s", is_tree ? "40000" : "100644", name);
	kr_buf_addch(t, '\0');
	kr_buf_add(t, id, KR_OID_LEN);
}

typedef struct s_node {
	char *name;
	int is_tree;
	uint8_t id[KR_OID_LEN];         /* a blob, or a tree built already (built) */
	int built;
	struct s_node **kids;
	size_t nkids;
} s_node;

static s_node *
node_child(s_node *dir, const char *name, size_t len)
{
	for (size_t i = 0; i < dir->nkids; i++)
		if (strlen(dir->kids[i]->name) == len && memcmp(dir->kids[i]->name, name, len) == 0)
			return dir->kids[i];
	dir->kids = kr_realloc(dir->kids, (dir->nkids + 1) * sizeof(*dir->kids));
	dir->kids[dir->nkids] = kr_calloc(1, sizeof(s_node));
	dir->kids[dir->nkids]->name = kr_strndup(name, len);
	return dir->kids[dir->nkids++];
}

/* Puts a blob (is_tree 0) or a built tree at path, replacing what was there. */
static void
node_put(s_node *root, const char *path, int is_tree, const uint8_t id[KR_OID_LEN])
{
	s_node *n = root;

	for (const char *p = path;;) {
		const char *slash = strchr(p, '/');
		n = node_child(n, p, slash ? (size_t)(slash - p) : strlen(p));
		if (!slash)
			break;
		n->is_tree = 1;
		n->built = 0;
		p = slash + 1;
	}
	n->is_tree = is_tree;
	n->built = 1;
	memcpy(n->id, id, KR_OID_LEN);
	for (size_t i = 0; i < n->nkids; i++)
		n->kids[i]->built = 1; /* replaced: not written (leaks the test tool's little trie) */
	n->nkids = 0;
}

/* git's order: names compared as if a tree's ended in '/' */
static int
node_cmp(const void *a, const void *b)
{
	const s_node *x = *(const s_node *const *)a, *y = *(const s_node *const *)b;
	char *kx = kr_sprintf("%s%s", x->name, x->is_tree ? "/" : "");
	char *ky = kr_sprintf("%s%s", y->name, y->is_tree ? "/" : "");
	int c = strcmp(kx, ky);

	free(kx);
	free(ky);
	return c;
}

/* Writes the trees under n (depth: the paths given, a handful of levels). */
static void
node_build(s_node *n)
{
	kr_buf t = KR_BUF_INIT;

	if (n->built)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		node_build(n->kids[i]);
	qsort(n->kids, n->nkids, sizeof(*n->kids), node_cmp);
	for (size_t i = 0; i < n->nkids; i++)
		tree_entry(&t, n->kids[i]->is_tree, n->kids[i]->name, n->kids[i]->id);
	obj_once(OBJ_TREE, t.ptr, t.len, n->id);
	n->built = 1;
	kr_buf_release(&t);
}

static void
node_free(s_node *n)
{
	for (size_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->name);
	free(n);
}

static int
collect_file(const char *path, const uint8_t *blob, void *arg)
{
	if (blob)
		node_put(arg, path, 0, blob);
	return 0;
}

/* The publisher's tree at its head, as a trie to edit. */
static s_node *
head_tree(const uint8_t head[KR_OID_LEN])
{
	s_node *root = kr_calloc(1, sizeof(*root));

	root->name = kr_strdup("");
	root->is_tree = 1;
	if (kr_store_diff(pubh.store, pubh.fpr, coll, NULL, head, collect_file, root) < 0)
		die("reading the publisher's tree");
	return root;
}

/* A signed commit of tree with parent, added to the pack. */
static void
signed_commit(const uint8_t tree[KR_OID_LEN], const uint8_t parent[KR_OID_LEN], const char *msg,
    uint8_t id[KR_OID_LEN])
{
	char th[KR_OID_HEX + 1], ph[KR_OID_HEX + 1];
	kr_buf c = KR_BUF_INIT, armour = KR_BUF_INIT, out = KR_BUF_INIT;
	long long now = (long long)kr_now();
	const char *body;

	kr_hex(th, tree, KR_OID_LEN);
	kr_hex(ph, parent, KR_OID_LEN);
	kr_buf_addf(&c, "tree %s\nparent %s\nauthor 三豊市 <x@kairan.invalid> %lld +0000\n"
	    "committer 三豊市 <x@kairan.invalid> %lld +0000\n\n%s", th, ph, now, now, msg);
	if (kr_sshsig_sign(&armour, pubh.key, "git", c.ptr, c.len) < 0)
		die("sign commit");
	/* as git_commit_create_with_signature: the gpgsig header after the others */
	body = strstr(c.ptr, "\n\n");
	kr_buf_add(&out, c.ptr, (size_t)(body - c.ptr) + 1);
	kr_buf_adds(&out, "gpgsig ");
	for (const char *p = armour.ptr; *p; p++) {
		kr_buf_addch(&out, *p);
		if (*p == '\n')
			kr_buf_addch(&out, ' ');
	}
	kr_buf_addch(&out, '\n');
	kr_buf_adds(&out, body + 1);
	obj_add(OBJ_COMMIT, out.ptr, out.len, id);
	kr_buf_release(&c);
	kr_buf_release(&armour);
	kr_buf_release(&out);
}

/* d/d/…/d/x.md, n directories: built from the inside out, no recursion */
static void
deep_tree(long n, uint8_t id[KR_OID_LEN])
{
	static const char x[] = "---\nkind: case\n---\n";
	uint8_t blob[KR_OID_LEN];
	kr_buf t = KR_BUF_INIT;

	obj_add(OBJ_BLOB, x, sizeof(x) - 1, blob);
	tree_entry(&t, 0, "x.md", blob);
	obj_add(OBJ_TREE, t.ptr, t.len, id);
	for (long i = 1; i < n; i++) {
		kr_buf_clear(&t);
		tree_entry(&t, 1, "d", id);
		obj_add(OBJ_TREE, t.ptr, t.len, id);
	}
	kr_buf_release(&t);
}

/* N trees of N trees of N files, each level one object */
static void
wide_tree(long n, uint8_t id[KR_OID_LEN])
{
	static const char x[] = "---\nkind: case\n---\n";
	kr_buf t = KR_BUF_INIT;

	obj_add(OBJ_BLOB, x, sizeof(x) - 1, id);
	for (int level = 0; level < 3; level++) {
		char name[32];
		kr_buf_clear(&t);
		for (long i = 0; i < n; i++) {
			snprintf(name, sizeof(name), level ? "d%06ld" : "f%06ld.md", i);
			tree_entry(&t, level > 0, name, id);
		}
		obj_add(OBJ_TREE, t.ptr, t.len, id);
	}
	kr_buf_release(&t);
}

static void
craft_setup(void)
{
	kr_state_head sh;
	uint8_t head[KR_OID_LEN], tree[KR_OID_LEN];
	s_node *root;

	if (kr_store_head(pubh.store, pubh.fpr, coll, head) < 0)
		die("the publisher has no head to build on");
	if (kr_state_head_get(pubh.state, pubh.fpr, coll, &sh) < 0)
		die("head size");
	root = head_tree(head);
	for (size_t i = 0; i < ncraft_files; i++) {
		kr_buf data = KR_BUF_INIT;
		uint8_t blob[KR_OID_LEN];
		if (kr_file_read(&data, craft_files[i].local) < 0)
			die(craft_files[i].local);
		obj_once(OBJ_BLOB, data.ptr, data.len, blob);
		node_put(root, craft_files[i].path, 0, blob);
		kr_buf_release(&data);
	}
	if (deep_n > 0) {
		deep_tree(deep_n, tree);
		node_put(root, "d", 1, tree);
	}
	if (wide_n > 0) {
		wide_tree(wide_n, tree);
		node_put(root, "w", 1, tree);
	}
	node_build(root);
	signed_commit(root->id, head, "crafted\n", newhead);
	node_free(root);
	if (hide) {
		/* the head puts the publisher's own tree back */
		uint8_t first[KR_OID_LEN];
		memcpy(first, newhead, KR_OID_LEN);
		root = head_tree(head);
		node_build(root);
		signed_commit(root->id, first, "back\n", newhead);
		node_free(root);
	}
	have_newhead = 1;
	/* PACK, version 2, count; entries; SHA-1 of it all */
	{
		uint8_t hdr[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2, (uint8_t)(nentries >> 24),
		    (uint8_t)(nentries >> 16), (uint8_t)(nentries >> 8), (uint8_t)nentries };
		uint8_t trailer[20];
		kr_sha1 *h = kr_sha1_new();
		kr_buf_add(&craftpack, hdr, 12);
		kr_buf_add(&craftpack, entries.ptr, entries.len);
		kr_sha1_update(h, craftpack.ptr, craftpack.len);
		kr_sha1_final(&h, trailer);
		kr_buf_add(&craftpack, trailer, 20);
	}
	kr_buf_release(&entries);
	have_craftpack = 1;
	fprintf(stderr, "hostile: crafted %u objects, a %zu-byte pack\n", (unsigned)nentries, craftpack.len);
	(void)sh;
}

static void
setup(void)
{
	kr_state_manifest cur;

	if (kr_state_manifest_get(pubh.state, pubh.fpr, &cur) < 0)
		die("the publisher home has no manifest (publish something first)");
	kr_buf_add(&manifest, cur.signed_bytes.ptr, cur.signed_bytes.len);
	kr_state_manifest_clear(&cur);
	if (strcmp(mode, "honest") == 0 || strcmp(mode, "garbage") == 0) {
		return;
	} else if (strcmp(mode, "badsig") == 0) {
		kr_signed s;
		craft(1, 0, NULL, 0);
		kr_signed_decode(&s, manifest.ptr, manifest.len);
		s.sig[7] ^= 0x01;
		kr_buf_clear(&manifest);
		kr_signed_encode(&manifest, &s);
		kr_signed_clear(&s);
	} else if (strcmp(mode, "replay") == 0) {
		craft(-1, 0, NULL, 0);
	} else if (strcmp(mode, "equivocate") == 0) {
		craft(0, 1234, NULL, 0);
	} else if (strcmp(mode, "expired") == 0) {
		craft(1, -1, NULL, 0);
	} else if (strcmp(mode, "nonff") == 0) {
		new_commit(pubh.key, scratch);
		craft(1, 0, newhead, 1 << 20);
	} else if (strcmp(mode, "otherkey") == 0) {
		kr_key *other;
		kr_key_generate(&other);
		new_commit(other, pubh.store);
		kr_key_destroy(&other);
		craft(1, 0, newhead, 0);
	} else if (strcmp(mode, "truncated") == 0) {
		new_commit(pubh.key, pubh.store);
		craft(1, 0, newhead, 0);
	} else if (strcmp(mode, "confidential") == 0 || strcmp(mode, "mynumber") == 0) {
		int conf = strcmp(mode, "confidential") == 0;
		char *it = kr_sprintf("---\nkind: case\nid: 372081/case/hostile-extra\ntitle: 内部の検討資料\n"
		    "publisher: {lg_code: \"372081\", name: 三豊市}\nversion: 1.0.0\npublished: 2024-06-01\n"
		    "updated: 2024-06-01\nlicense: PDL-1.0\nconfidentiality: %s\ndomains: [住民問合せ対応]\n"
		    "ai_uses: [対話生成]\nsources: [{title: 資料, issuer: 三豊市}]\n---\n%s\n",
		    conf ? "機密性2" : "機密性1", conf ? "内部資料。" : "申請者の個人番号 1234 5678 9018 を確認した。");
		new_commit_with(pubh.key, pubh.store, it);
		free(it);
		craft(1, 0, newhead, 0);
	} else if (strcmp(mode, "craft") == 0) {
		kr_state_head sh;
		if (ncraft_files || deep_n > 0 || wide_n > 0)
			craft_setup();
		else if (!pack_file || !head_hex)
			fprintf(stderr, "hostile: craft needs --file, --deep, --wide, or --pack with --head\n"), exit(2);
		if (pack_file) {
			kr_buf_clear(&craftpack);
			if (kr_file_read(&craftpack, pack_file) < 0)
				die(pack_file);
			have_craftpack = 1;
		}
		if (head_hex && (kr_unhex(newhead, KR_OID_LEN, head_hex) < 0 || !(have_newhead = 1)))
			fprintf(stderr, "hostile: --head wants 40 hex digits\n"), exit(2);
		if (kr_state_head_get(pubh.state, pubh.fpr, coll, &sh) < 0)
			die("head size");
		craft(1, 0, newhead, sh.size + craftpack.len + 4096);
	} else if (strcmp(mode, "oversize") == 0) {
		new_commit(pubh.key, pubh.store);
		craft(1, 0, newhead, 40);
	} else if (strncmp(mode, "inline", 6) == 0) {
		/*
		 * Each builds on the last one's commit (the publisher home's ref
		 * moves), a seq and an item version further, so a serving town
		 * can meet them one after another in this order.
		 */
		static const char *const order[] = { "inlinejunk", "inlinegarbage", "inlinelie", "inlinestale" };
		kr_inline_pack p = { .has_base = 1 };
		kr_inline in = { &p, 1 };
		uint8_t old[KR_OID_LEN];
		int k = 0;
		char *it;
		while (k < 4 && strcmp(mode, order[k]) != 0)
			k++;
		if (k == 4)
			fprintf(stderr, "hostile: unknown mode %s\n", mode), exit(2);
		it = kr_sprintf("---\nkind: case\nid: 372081/case/hostile-extra\ntitle: 告知に添えた事例 %s\n"
		    "publisher: {lg_code: \"372081\", name: 三豊市}\nversion: 1.0.%d\npublished: 2024-06-01\n"
		    "updated: 2024-06-01\nlicense: PDL-1.0\nconfidentiality: 機密性1\ndomains: [住民問合せ対応]\n"
		    "ai_uses: [対話生成]\nsources: [{title: 資料, issuer: 三豊市}]\n---\n本文 %s\n", mode, k, mode);
		if (kr_store_head(pubh.store, pubh.fpr, coll, old) < 0)
			die("head");
		p.pack = (kr_buf)KR_BUF_INIT;
		if (k == 3) {
			/* a commit in between, never announced: a town that applied the last is two behind */
			char *mid = kr_sprintf("%.*s本文 間のコミット\n", (int)(strstr(it, "本文") - it), it);
			new_commit_with(pubh.key, pubh.store, mid);
			free(mid);
			if (kr_store_cas(pubh.store, pubh.fpr, coll, old, newhead) < 0)
				die("cas");
			memcpy(old, newhead, KR_OID_LEN);
			commit_pack = &p.pack; /* as a publisher's node sends it: the new commit's objects alone */
		}
		new_commit_with(pubh.key, pubh.store, it);
		free(it);
		if (kr_store_cas(pubh.store, pubh.fpr, coll, old, newhead) < 0)
			die("cas");
		craft(1 + k, 0, newhead, 0);
		snprintf(p.collection, sizeof(p.collection), "%s", coll);
		memcpy(p.base, old, KR_OID_LEN);
		memcpy(p.want, newhead, KR_OID_LEN);
		if (k == 0) {
			garbage(&p.pack);
		} else if (k == 2) {
			/* a valid pack, of the old head from nothing */
			if (kr_store_pack(pubh.store, pubh.fpr, coll, old, NULL, 0, &p.pack) < 0)
				die("pack");
		} else if (k == 3 && !p.pack.len) {
			die("the new commit's pack");
		}
		if (k == 1)
			garbage(&inlined);
		else
			kr_inline_encode(&inlined, &in);
		kr_buf_release(&p.pack);
	} else {
		fprintf(stderr, "hostile: unknown mode %s\n", mode);
		exit(2);
	}
}

/* ---- --flood: the same refused update, re-signed again and again ---- */

static int flood_ms;
static size_t flood_kb = 1024;
static int64_t flood_seq;
static volatile sig_atomic_t flood_paused;

static void
flood_pause(int sig)
{
	(void)sig;
	flood_paused = 1;
}

static void
flood_next(void)
{
	craft(++flood_seq, 0, newhead, (uint64_t)flood_kb * 2048 + (1 << 20));
	fprintf(stderr, "hostile: flood: seq +%lld\n", (long long)flood_seq);
}

static void
flood_setup(void)
{
	size_t len = flood_kb * 1024;
	char *data = kr_calloc(len ? len : 1, 1);
	kr_store_file f = { "cases/flood.bin", data, len };
	kr_key *other;
	int changed;

	for (size_t i = 0; i < len; i++)
		data[i] = (char)rand();
	kr_key_generate(&other);
	if (kr_store_commit(pubh.store, pubh.fpr, coll, &f, 1, "flood\n", "三豊市", "x@kairan.invalid",
	    other, newhead, &changed, NULL) < 0 || !changed)
		die("flood commit");
	kr_key_destroy(&other);
	free(data);
	flood_next();
}

/* The current manifest on its topic, and a beacon whose digest never matches a snapshot's. */
static void
flood_announce(void *pub, int with_manifest)
{
	char topic[2 + KR_FPR_HEX + 1];
	kr_beacon b;
	kr_buf out = KR_BUF_INIT;

	if (with_manifest) {
		snprintf(topic, sizeof(topic), "m/%s", pubh.fpr);
		zmq_send(pub, topic, strlen(topic), ZMQ_SNDMORE);
		zmq_send(pub, manifest.ptr, manifest.len, 0);
	}
	memcpy(b.node, kr_key_pub(pubh.key), KR_FPR_LEN);
	b.time = kr_now();
	for (int i = 0; i < 16; i++)
		b.digest[i] = (uint8_t)rand();
	kr_beacon_encode(&out, &b);
	zmq_send(pub, "b", 1, ZMQ_SNDMORE);
	zmq_send(pub, out.ptr, out.len, 0);
	kr_buf_release(&out);
}

static void
garbage(kr_buf *b)
{
	size_t n = 1 + (size_t)(rand() % 300);

	kr_buf_clear(b);
	for (size_t i = 0; i < n; i++)
		kr_buf_addch(b, (char)rand());
}

static void
reply(void *router, zmq_msg_t *id, kr_reply *rep)
{
	kr_buf out = KR_BUF_INIT;

	if (strcmp(mode, "garbage") == 0)
		garbage(&out);
	else
		kr_reply_encode(&out, rep);
	zmq_send(router, zmq_msg_data(id), zmq_msg_size(id), ZMQ_SNDMORE);
	zmq_send(router, out.ptr, out.len, 0);
	kr_buf_release(&out);
}

int
main(int argc, char **argv)
{
	kr_guard *guard = NULL;
	const char *home = NULL, *listen = NULL, *announce = NULL;
	void *ctx, *router, *pub;
	kr_buf pack = KR_BUF_INIT;
	double next_announce = 0;
	uint8_t pack_want[KR_OID_LEN];
	int pack_valid = 0;
	char *tmp;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--hide") == 0) {
			hide = 1;
			continue;
		}
		if (!v)
			break;
		i++;
		if (strcmp(argv[i - 1], "--home") == 0) home = v;
		else if (strcmp(argv[i - 1], "--listen") == 0) listen = v;
		else if (strcmp(argv[i - 1], "--announce") == 0) announce = v;
		else if (strcmp(argv[i - 1], "--mode") == 0) mode = v;
		else if (strcmp(argv[i - 1], "--flood") == 0) flood_ms = atoi(v), mode = "flood";
		else if (strcmp(argv[i - 1], "--flood-kb") == 0) flood_kb = (size_t)atoi(v);
		else if (strcmp(argv[i - 1], "--deep") == 0) deep_n = strtol(v, NULL, 10);
		else if (strcmp(argv[i - 1], "--wide") == 0) wide_n = strtol(v, NULL, 10);
		else if (strcmp(argv[i - 1], "--pack") == 0) pack_file = v;
		else if (strcmp(argv[i - 1], "--head") == 0) head_hex = v;
		else if (strcmp(argv[i - 1], "--file") == 0 && strchr(v, '=') && ncraft_files < 64) {
			const char *eq = strchr(v, '=');
			craft_files[ncraft_files].path = kr_strndup(v, (size_t)(eq - v));
			craft_files[ncraft_files++].local = kr_strdup(eq + 1);
		} else {
			fprintf(stderr, "hostile: unknown option %s\n", argv[i - 1]);
			return 2;
		}
	}
	if (!home || !listen || !announce || !mode) {
		fprintf(stderr, "usage: hostile --home PUBHOME --listen EP --announce EP --mode MODE "
		    "[--file PATH=LOCALFILE]... [--deep N] [--wide N] [--hide] [--pack FILE [--head HEX]]\n"
		    "       hostile --home PUBHOME --listen EP --announce EP --flood MS [--flood-kb KB]\n");
		return 2;
	}
	srand((unsigned)getpid());
	if (kr_home_open(&pubh, home) < 0)
		die(home);
	tmp = kr_sprintf("%s/hostile-scratch", home);
	if (kr_store_open(&scratch, tmp) < 0)
		die("scratch store");
	if (flood_ms) {
		kr_state_manifest cur;
		if (kr_state_manifest_get(pubh.state, pubh.fpr, &cur) < 0)
			die("the publisher home has no manifest (publish something first)");
		kr_state_manifest_clear(&cur);
		flood_setup();
		signal(SIGUSR1, flood_pause);
	} else {
		setup();
	}

	/* CURVE like a node (the publisher home's keys): hostile content inside an honest channel */
	ctx = zmq_ctx_new();
	if (kr_guard_start(&guard, ctx) < 0)
		die("ZAP handler");
	router = zmq_socket(ctx, ZMQ_ROUTER);
	pub = zmq_socket(ctx, ZMQ_PUB);
	if (kr_transport_serve(router, "kairan") < 0 || kr_transport_serve(pub, "kairan") < 0)
		die("CURVE");
	if (zmq_bind(router, listen) < 0 || zmq_bind(pub, announce) < 0) {
		fprintf(stderr, "hostile: bind: %s\n", zmq_strerror(zmq_errno()));
		return 3;
	}
	if (kr_guard_run(guard, pubh.key, listen) < 0)
		die("introductions");
	fprintf(stderr, "hostile: serving mode %s on %s\n", mode, listen);
	double next_flood = kr_monotonic_ms() + flood_ms, next_beacon = kr_monotonic_ms() + flood_ms / 2.0;
	for (;;) {
		zmq_msg_t id, body;
		kr_request req;
		kr_reply rep = { 0 };
		zmq_pollitem_t it = { router, 0, ZMQ_POLLIN, 0 };
		long wait = 250;

		if (flood_ms) {
			double now = kr_monotonic_ms();
			if (now >= next_flood) {
				if (!flood_paused)
					flood_next();
				flood_announce(pub, !flood_paused);
				next_flood = now + flood_ms;
				next_beacon = now + flood_ms / 2.0;
			} else if (now >= next_beacon) {
				flood_announce(pub, 0);
				next_beacon = next_flood;
			}
			wait = (long)((next_beacon < next_flood ? next_beacon : next_flood) - now) + 1;
			if (wait < 1)
				wait = 1;
		} else if (kr_monotonic_ms() >= next_announce) {
			/* announcements, for subscribers */
			next_announce = kr_monotonic_ms() + 1000;
			if (strcmp(mode, "garbage") == 0) {
				kr_buf g = KR_BUF_INIT;
				garbage(&g);
				zmq_send(pub, "b", 1, ZMQ_SNDMORE);
				zmq_send(pub, g.ptr, g.len, 0);
				kr_buf_release(&g);
			} else {
				char topic[2 + KR_FPR_HEX + 2];
				if (inlined.len) {
					/* as a publisher's node announces its own (node/serve.c s_announce_inline) */
					snprintf(topic, sizeof(topic), "m/%s+", pubh.fpr);
					zmq_send(pub, topic, strlen(topic), ZMQ_SNDMORE);
					zmq_send(pub, manifest.ptr, manifest.len, ZMQ_SNDMORE);
					zmq_send(pub, inlined.ptr, inlined.len, 0);
				}
				snprintf(topic, sizeof(topic), "m/%s", pubh.fpr);
				zmq_send(pub, topic, strlen(topic), ZMQ_SNDMORE);
				zmq_send(pub, manifest.ptr, manifest.len, 0);
			}
		}
		if (zmq_poll(&it, 1, wait) <= 0)
			continue;
		zmq_msg_init(&id);
		zmq_msg_init(&body);
		zmq_msg_recv(&id, router, 0);
		zmq_msg_recv(&body, router, 0);
		if (kr_request_decode(&req, zmq_msg_data(&body), zmq_msg_size(&body)) < 0) {
			zmq_msg_close(&id);
			zmq_msg_close(&body);
			continue;
		}
		rep.id = req.id;
		if (req.type == KR_REQ_HELLO) {
			rep.type = KR_REP_HELLO;
			rep.version = KR_PROTO_VERSION;
			memcpy(rep.node, kr_key_pub(pubh.key), KR_FPR_LEN);
			rep.name = (char *)"hostile";
			rep.lg_code = (char *)"372081";
			rep.announce = (char *)announce;
			reply(router, &id, &rep);
		} else if (req.type == KR_REQ_SNAPSHOT) {
			if (flood_ms)
				fprintf(stderr, "hostile: snapshot\n");
			rep.type = KR_REP_SNAPSHOT;
			rep.manifests = &manifest;
			rep.nmanifests = 1;
			reply(router, &id, &rep);
		} else if (req.type == KR_REQ_FETCH) {
			/*
			 * One pack, kept per want: clients fetch concurrently, and one
			 * may still ask for chunks of what an earlier run served.
			 */
			int ok = 1;
			if (req.offset == 0 && flood_ms)
				fprintf(stderr, "hostile: fetch %s\n", req.collection);
			if (!pack_valid || memcmp(req.want, pack_want, KR_OID_LEN) != 0) {
				kr_buf_clear(&pack);
				pack_valid = 0;
				if (have_craftpack && memcmp(req.want, newhead, KR_OID_LEN) == 0) {
					kr_buf_add(&pack, craftpack.ptr, craftpack.len);
				} else {
					kr_store *src = strcmp(mode, "nonff") == 0 ? scratch : pubh.store;
					uint8_t want[KR_OID_LEN];
					memcpy(want, req.want, KR_OID_LEN);
					ok = kr_store_pack(src, pubh.fpr, req.collection, want,
					    (const uint8_t (*)[KR_OID_LEN])req.haves, req.nhaves, &pack) == 0;
					if (ok && strcmp(mode, "truncated") == 0)
						pack.len = pack.len / 2;
				}
				if (ok) {
					memcpy(pack_want, req.want, KR_OID_LEN);
					pack_valid = 1;
				}
			}
			if (!ok) {
				rep.type = KR_REP_ERROR;
				rep.code = KR_WIRE_ENOTFOUND;
				rep.text = (char *)"no such commit here";
			} else {
				rep.type = KR_REP_CHUNK;
				rep.offset = req.offset;
				rep.total = pack.len;
				rep.data = (const uint8_t *)pack.ptr + (req.offset < pack.len ? req.offset : pack.len);
				rep.data_len = req.offset >= pack.len ? 0 :
				    (pack.len - req.offset < req.length ? pack.len - req.offset : req.length);
			}
			reply(router, &id, &rep);
		}
		kr_request_clear(&req);
		zmq_msg_close(&id);
		zmq_msg_close(&body);
	}
	(void)have_newhead;
	return 0;
}
