/* Per-thread objects (see thread_local.h): one pthread key holds a thread's slots. */
#include "core/thread_local.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static yw_thread_local *slots[YW_THREAD_LOCAL_MAX];
static int nslots;

static void thread_exit(void *p)
{
    void **objs = p;
    for (int i = 0; i < YW_THREAD_LOCAL_MAX; i++) {
        if (objs[i] && slots[i]->clear)
            slots[i]->clear(objs[i]);
        free(objs[i]);
    }
    free(objs);
}

static void key_create(void)
{
    pthread_key_create(&key, thread_exit);
}

static int slot_of(yw_thread_local *t)
{
    int slot = __atomic_load_n(&t->slot, __ATOMIC_ACQUIRE);
    if (slot >= 0)
        return slot;
    pthread_mutex_lock(&slots_lock);
    if (t->slot < 0 && nslots < YW_THREAD_LOCAL_MAX) {
        slots[nslots] = t;
        __atomic_store_n(&t->slot, nslots++, __ATOMIC_RELEASE);
    }
    slot = t->slot;
    pthread_mutex_unlock(&slots_lock);
    return slot;
}

void *yw_thread_local_get(yw_thread_local *t)
{
    pthread_once(&key_once, key_create);
    int slot = slot_of(t);
    if (slot < 0)
        return NULL; /* more descriptors than YW_THREAD_LOCAL_MAX: a programming error, met as "no cache" */
    void **objs = pthread_getspecific(key);
    if (!objs) {
        if (!(objs = calloc(YW_THREAD_LOCAL_MAX, sizeof *objs)) || pthread_setspecific(key, objs) != 0) {
            free(objs);
            return NULL;
        }
    }
    if (!objs[slot])
        objs[slot] = calloc(1, t->size);
    return objs[slot];
}
