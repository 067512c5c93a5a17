/* pool.c - the network's thread pool (include/cnet/pool.h).
 *
 * Workers wait for a new generation number: they spin briefly (a layer's
 * next task usually follows within microseconds) and then sleep on a
 * condition variable, so an idle pool never takes a core from OpenBLAS's
 * own threads for long. The caller runs part 0 itself and spins until the
 * other parts are done.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "cnet/pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

/* Spins before a worker sleeps (about 20-50 microseconds). */
#define SPIN 2000

typedef struct worker {
    cn_pool *pool;
    int part;
    pthread_t thread;
} worker;

struct cn_pool {
    int size;
    worker *workers; /* (size - 1) */
    cn_pool_fn fn;
    void *arg;
    atomic_uint gen;    /* bumped once per cn_pool_run */
    atomic_int pending; /* parts not yet finished */
    int stop;
    int sleepers;       /* workers waiting on wake, under mu */
    pthread_mutex_t mu;
    pthread_cond_t wake;
};

/* Wait until the generation differs from `seen`; returns the new one. */
static unsigned wait_gen(cn_pool *p, unsigned seen)
{
    for (int i = 0; i < SPIN; i++) {
        unsigned g = atomic_load_explicit(&p->gen, memory_order_acquire);
        if (g != seen)
            return g;
        CPU_RELAX();
    }
    pthread_mutex_lock(&p->mu);
    p->sleepers++;
    while (atomic_load_explicit(&p->gen, memory_order_acquire) == seen)
        pthread_cond_wait(&p->wake, &p->mu);
    p->sleepers--;
    pthread_mutex_unlock(&p->mu);
    return atomic_load_explicit(&p->gen, memory_order_acquire);
}

static void *work(void *arg)
{
    worker *w = arg;
    cn_pool *p = w->pool;
    unsigned seen = 0;
    for (;;) {
        seen = wait_gen(p, seen);
        if (p->stop)
            return NULL;
        p->fn(p->arg, w->part, p->size);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
    }
}

static void bump(cn_pool *p)
{
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    if (p->sleepers)
        pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
}

cn_status cn_pool_create(int threads, cn_pool **out, cn_error *err)
{
    *out = NULL;
    if (threads < 1)
        threads = 1;
    if (threads > CN_POOL_MAX)
        threads = CN_POOL_MAX;
    cn_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->workers = calloc((size_t)threads, sizeof *p->workers))) {
        free(p);
        return cn_errorf(err, CN_ERR_NOMEM, "thread pool: out of memory");
    }
    p->size = 1;
    atomic_init(&p->gen, 0);
    atomic_init(&p->pending, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    /* workers start with every signal blocked (they inherit the mask), so
     * SIGINT/SIGTERM reach the thread that runs the trainer */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (int t = 1; t < threads; t++) {
        worker *w = &p->workers[t - 1];
        w->pool = p;
        w->part = t;
        if (pthread_create(&w->thread, NULL, work, w)) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            cn_pool_free(p);
            return cn_errorf(err, CN_ERR_NOMEM, "thread pool: cannot start thread %d of %d",
                             t + 1, threads);
        }
        p->size = t + 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    *out = p;
    return CN_OK;
}

void cn_pool_free(cn_pool *p)
{
    if (!p)
        return;
    p->stop = 1;
    bump(p);
    for (int t = 1; t < p->size; t++)
        pthread_join(p->workers[t - 1].thread, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    free(p->workers);
    free(p);
}

int cn_pool_size(const cn_pool *p) { return p ? p->size : 1; }

void cn_pool_run(cn_pool *p, cn_pool_fn fn, void *arg)
{
    if (!p || p->size == 1) {
        fn(arg, 0, 1);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    atomic_store_explicit(&p->pending, p->size - 1, memory_order_relaxed);
    bump(p);
    fn(arg, 0, p->size);
    for (int i = 0; atomic_load_explicit(&p->pending, memory_order_acquire);)
        if (i < SPIN)
            CPU_RELAX(), i++;
        else
            sched_yield();
}

void cn_pool_range(int n, int part, int parts, int *lo, int *hi)
{
    *lo = (int)((long long)n * part / parts);
    *hi = (int)((long long)n * (part + 1) / parts);
}

void cn_pool_share(size_t count, size_t align, int part, int parts, size_t *lo, size_t *hi)
{
    /* a remainder block goes to the lowest parts: part 0 is the caller, which
     * starts first, while a worker may still be waking up */
    size_t blocks = (count + align - 1) / align, base = blocks / (size_t)parts;
    size_t extra = blocks % (size_t)parts, p = (size_t)part;
    *lo = (p * base + (p < extra ? p : extra)) * align;
    *hi = *lo + (base + (p < extra)) * align;
    *lo = *lo < count ? *lo : count;
    *hi = *hi < count ? *hi : count;
}

/* Below this, waking a thread costs more than the work saves. */
#define MIN_ELEMENTS 16384

cn_pool *cn_pool_if(cn_pool *p, size_t elements)
{
    return elements >= MIN_ELEMENTS ? p : NULL;
}
