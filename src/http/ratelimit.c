/* Token buckets per caller (see ratelimit.h). */
#include "http/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS 64
#define SLOTS 256 /* per shard: 16,384 callers at once */
#define KEY_MAX 96

typedef struct {
    char key[KEY_MAX];
    double tokens;
    int64_t last_ns; /* 0: free */
} bucket;

typedef struct {
    pthread_mutex_t lock;
    bucket slots[SLOTS];
} shard;

struct yw_ratelimit {
    double rate, burst;
    shard shards[SHARDS];
};

yw_ratelimit *yw_ratelimit_new(double rate, double burst)
{
    if (rate <= 0)
        return NULL;
    yw_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    rl->rate = rate;
    rl->burst = burst < 1 ? 1 : burst;
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_init(&rl->shards[i].lock, NULL);
    return rl;
}

void yw_ratelimit_free(yw_ratelimit *rl)
{
    if (!rl)
        return;
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_destroy(&rl->shards[i].lock);
    free(rl);
}

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

int yw_ratelimit_take(yw_ratelimit *rl, const char *key, int64_t now_ns)
{
    if (!rl || !key)
        return 0;
    uint64_t h = hash(key);
    shard *sh = &rl->shards[h % SHARDS];
    pthread_mutex_lock(&sh->lock);
    /* the caller's slot, or else a free one, or else the one idle longest */
    bucket *b = NULL, *spare = NULL;
    for (size_t i = 0, at = (h / SHARDS) % SLOTS; i < SLOTS && !b; i++, at = (at + 1) % SLOTS) {
        bucket *c = &sh->slots[at];
        if (c->last_ns && strncmp(c->key, key, KEY_MAX - 1) == 0)
            b = c;
        else if (!spare || (spare->last_ns && (!c->last_ns || c->last_ns < spare->last_ns)))
            spare = c;
        if (!c->last_ns)
            break; /* keys are placed at their first free slot: none of them lies further */
    }
    if (!b) {
        b = spare;
        snprintf(b->key, KEY_MAX, "%s", key);
        b->tokens = rl->burst;
        b->last_ns = now_ns;
    }
    double tokens = b->tokens + (double)(now_ns - b->last_ns) / 1e9 * rl->rate;
    b->tokens = tokens > rl->burst ? rl->burst : tokens;
    b->last_ns = now_ns > 0 ? now_ns : 1;
    int wait = 0;
    if (b->tokens >= 1)
        b->tokens -= 1;
    else
        wait = (int)ceil((1 - b->tokens) / rl->rate);
    pthread_mutex_unlock(&sh->lock);
    return wait > 0 ? wait : 0;
}
