/* test_start.c - what a start checks of the stored chain: hashes, work,
 * links and the name rules always; signatures only with --reverify (the
 * node checked them before it stored each block).  A store holding a block
 * whose signature is bad but whose hashes agree (written here behind the
 * node's back) shows the difference. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#include "ledger_fixture.h"
#include "tnode.h"

static long height_of(struct tnode *t)
{
	json_t *s = NULL;
	WAIT_UNTIL((s = tnode_status(t)) != NULL, 60000);
	long h = (long)json_integer_value(json_object_get(s, "height"));
	json_decref(s);
	return h;
}

TEST_T(start_trusts_stored_signatures_and_reverify_checks_them, 120)
{
	struct fx f;
	fx_open(&f);
	struct record reg, c;
	fx_register(&reg, fx_key(KEY_ED25519, 0), "mallory", "10.0.0.1:1", FX_T0);
	fx_commit(&c, &reg);
	reg.sig[3] ^= 1;   /* a bad signature; the commit and the hashes agree */
	fx_work(&reg);
	struct block_header gh;
	uint8_t g[32], h1[32];
	fx_at(&f, 0, &gh, g);
	struct block bs[2];
	fx_block(&bs[0], g, &gh, &c, 1, FX_T0 + 1);
	header_hash(&bs[0].h, h1);
	fx_block(&bs[1], h1, &bs[0].h, &reg, 1, FX_T0 + 2);
	/* The ledger itself refuses it, signatures checked. */
	struct ledger_add res;
	CHECK_INT(fx_add(&f, &bs[0], &res), ==, LEDGER_EXTENDED);
	CHECK_INT(fx_add(&f, &bs[1], &res), ==, LEDGER_INVALID);
	CHECK(strstr(res.why, "bad signature"));
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/n", harness_tmpdir());
	fx_blocks_dir(dir, bs, 2);

	const char *plain[] = { "--network", FX_NETWORK, "--pow-bits", "8", NULL };
	const char *reverify[] = { "--network", FX_NETWORK, "--pow-bits", "8", "--reverify",
				   NULL };
	struct tnode t;
	tnode_start(&t, dir, "127.0.42.1", plain);
	CHECK_INT(height_of(&t), ==, 2);   /* trusted: stored means checked */
	CHECK(tnode_has_name(&t, "mallory"));
	CHECK_INT(tnode_stop(&t, 20000), ==, 0);
	tnode_start(&t, dir, "127.0.42.1", reverify);
	CHECK_INT(height_of(&t), ==, 1);   /* checked again: refused */
	CHECK(!tnode_has_name(&t, "mallory"));
	CHECK_INT(tnode_stop(&t, 20000), ==, 0);
	/* Marked invalid in the store, so a plain start passes it by too. */
	tnode_start(&t, dir, "127.0.42.1", plain);
	CHECK_INT(height_of(&t), ==, 1);
	CHECK(!tnode_has_name(&t, "mallory"));
	CHECK_INT(tnode_stop(&t, 20000), ==, 0);
	block_free(&bs[0]);
	block_free(&bs[1]);
	fx_close(&f);
}
