/*
 * sigcache.c - a set-associative table of signature verdicts (sigcache.h).
 *
 * The set is chosen by the key's first bytes (SHA-256 output: uniform, and
 * not under a sender's control without a preimage).  Each set has a clock
 * hand; a lookup that hits sets the entry's reference bit.
 */
#include "ledger/sigcache.h"

#include <pthread.h>
#include <string.h>

struct slot {
	uint8_t key[32];
	uint8_t verdict;   /* enum sigcache_verdict; MISS: empty */
	uint8_t ref;
};

static struct {
	pthread_mutex_t mu;
	struct slot set[SIGCACHE_SETS][SIGCACHE_WAYS];
	uint8_t hand[SIGCACHE_SETS];
	uint64_t hits, misses;
} cache = { .mu = PTHREAD_MUTEX_INITIALIZER };

static size_t set_of(const uint8_t key[32])
{
	return ((size_t)key[0] << 8 | key[1]) % SIGCACHE_SETS;
}

enum sigcache_verdict sigcache_get(const uint8_t key[static 32])
{
	enum sigcache_verdict v = SIGCACHE_MISS;
	struct slot *s = cache.set[set_of(key)];
	pthread_mutex_lock(&cache.mu);
	for (int i = 0; i < SIGCACHE_WAYS; i++) {
		if (s[i].verdict != SIGCACHE_MISS && memcmp(s[i].key, key, 32) == 0) {
			s[i].ref = 1;
			v = (enum sigcache_verdict)s[i].verdict;
			break;
		}
	}
	if (v == SIGCACHE_MISS)
		cache.misses++;
	else
		cache.hits++;
	pthread_mutex_unlock(&cache.mu);
	return v;
}

void sigcache_put(const uint8_t key[static 32], bool good)
{
	size_t k = set_of(key);
	struct slot *s = cache.set[k];
	pthread_mutex_lock(&cache.mu);
	int way = -1;
	for (int i = 0; i < SIGCACHE_WAYS && way < 0; i++)
		if (s[i].verdict == SIGCACHE_MISS || memcmp(s[i].key, key, 32) == 0)
			way = i;
	/* The clock: spare what was used since the hand last passed. */
	while (way < 0) {
		struct slot *c = &s[cache.hand[k]];
		if (c->ref)
			c->ref = 0;
		else
			way = cache.hand[k];
		cache.hand[k] = (uint8_t)((cache.hand[k] + 1) % SIGCACHE_WAYS);
	}
	memcpy(s[way].key, key, 32);
	s[way].verdict = good ? SIGCACHE_GOOD : SIGCACHE_BAD;
	s[way].ref = 0;
	pthread_mutex_unlock(&cache.mu);
}

void sigcache_stats(uint64_t *hits, uint64_t *misses)
{
	pthread_mutex_lock(&cache.mu);
	*hits = cache.hits;
	*misses = cache.misses;
	pthread_mutex_unlock(&cache.mu);
}
