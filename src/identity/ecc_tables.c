/*
 * ecc_tables.c - wolfCrypt's per-thread ECC tables, freed when a thread
 * that did ECC exits.
 *
 * wolfCrypt as Debian builds it (FP_ECC) keeps per-thread tables for ECC
 * points it has multiplied, over a megabyte per thread, which only
 * wc_ecc_fp_free() in that same thread releases.  A thread that did ECC here
 * gets it called when it exits.  (The main thread's tables go with the
 * process.)
 */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include <pthread.h>

#include "identity/ecc_tables.h"
#include "util/log.h"

#ifdef FP_ECC
static pthread_key_t ecc_tables_key;
static pthread_once_t ecc_tables_once = PTHREAD_ONCE_INIT;

static void ecc_tables_free(void *unused) { wc_ecc_fp_free(); }

static void ecc_tables_init(void)
{
	if (pthread_key_create(&ecc_tables_key, ecc_tables_free) != 0)
		LOG_W("keys", "no thread-exit hook: ECC tables of exiting threads leak");
}

void ecc_tables_used(void)
{
	pthread_once(&ecc_tables_once, ecc_tables_init);
	if (!pthread_getspecific(ecc_tables_key))
		pthread_setspecific(ecc_tables_key, &ecc_tables_key);
}
#else
void ecc_tables_used(void) {}
#endif