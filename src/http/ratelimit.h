/*
 * Request rate per caller (DESIGN.md §6): a token bucket for each user or
 * client, refilled at rate requests a second up to burst. Callers are kept
 * in a fixed table of sharded slots; when a shard is full the caller seen
 * least recently gives up its slot (and starts again with a full bucket
 * should it come back), so memory stays bounded whatever the number of
 * callers.
 */
#ifndef YW_HTTP_RATELIMIT_H
#define YW_HTTP_RATELIMIT_H

#include <stdint.h>

typedef struct yw_ratelimit yw_ratelimit;

/* A limiter of rate requests a second (bursts of up to burst); NULL when rate is 0 (no limit). */
yw_ratelimit *yw_ratelimit_new(double rate, double burst);
void yw_ratelimit_free(yw_ratelimit *rl);

/*
 * Takes one request from key's bucket at time now_ns (monotonic). Returns 0
 * when it may go on, else the whole seconds until it may (at least 1).
 */
int yw_ratelimit_take(yw_ratelimit *rl, const char *key, int64_t now_ns);

#endif
