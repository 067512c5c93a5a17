/* loader.c - batches over an index list, shuffled per epoch, with prefetch.
 *
 * An epoch is order = idx, permuted by the caller's RNG on the caller's
 * thread, cut into batches b = order[b*batch .. (b+1)*batch). Batch b is
 * filled into slot b % 2, so what a batch holds depends only on the order,
 * never on thread timing: prefetch on and off give the same batches.
 *
 * With prefetch, one persistent worker fills batch f once f < released + 2,
 * where `released` counts the batches the consumer is done with (batch t is
 * released by the call that asks for t + 1). So the slot handed out is never
 * written while the caller may still read it. Everything is allocated by
 * cn_loader_create.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct cn_loader {
    const cn_dataset *ds;
    int *idx, n_idx;   /* (n_idx) the samples, copied */
    int *order;        /* (n_idx) this epoch's order */
    int batch, n_batches;
    size_t dim;        /* c*h*w */
    float *x[2];       /* (batch, dim) per slot */
    int *labels[2];    /* (batch) per slot */
    int count[2];      /* samples in each slot */
    int taken;         /* batches handed out this epoch (consumer only) */
    /* prefetch: shared with the worker under mu */
    int prefetch, started;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work; /* the worker may have something to do */
    pthread_cond_t done; /* a batch was filled or the worker went idle */
    int filled;          /* batches of this epoch filled */
    int released;        /* batches the consumer is done with */
    int busy, stop;
};

/* Batch b of the epoch into slot b % 2. */
static void fill(cn_loader *ld, int b)
{
    int slot = b % 2, start = b * ld->batch;
    int n = CN_MIN(ld->batch, ld->n_idx - start);
    for (int k = 0; k < n; k++) {
        int i = ld->order[start + k];
        cn_dataset_sample(ld->ds, i, ld->x[slot] + (size_t)k * ld->dim);
        ld->labels[slot][k] = ld->ds->labels ? ld->ds->labels[i] : -1;
    }
    ld->count[slot] = n;
}

static void *worker(void *arg)
{
    cn_loader *ld = arg;
    pthread_mutex_lock(&ld->mu);
    for (;;) {
        while (!ld->stop && !(ld->filled < ld->n_batches && ld->filled < ld->released + 2))
            pthread_cond_wait(&ld->work, &ld->mu);
        if (ld->stop)
            break;
        int b = ld->filled;
        ld->busy = 1;
        pthread_mutex_unlock(&ld->mu);
        fill(ld, b);
        pthread_mutex_lock(&ld->mu);
        ld->busy = 0;
        ld->filled = b + 1;
        pthread_cond_broadcast(&ld->done);
    }
    pthread_mutex_unlock(&ld->mu);
    return NULL;
}

cn_status cn_loader_create(const cn_dataset *ds, const int *idx, int n_idx, int batch,
                           int drop_last, int prefetch, cn_loader **out, cn_error *err)
{
    *out = NULL;
    if (!idx)
        n_idx = ds->n;
    if (batch < 1 || n_idx < 0)
        return cn_errorf(err, CN_ERR_INTERNAL, "loader over %s: batch %d and %d samples, "
                         "expected batch >= 1", ds->source, batch, n_idx);
    for (int i = 0; idx && i < n_idx; i++)
        if (idx[i] < 0 || idx[i] >= ds->n)
            return cn_errorf(err, CN_ERR_INTERNAL, "loader over %s: index %d is out of "
                             "[0, %d)", ds->source, idx[i], ds->n);
    cn_loader *ld = calloc(1, sizeof *ld);
    if (!ld)
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for a loader");
    ld->ds = ds;
    ld->n_idx = n_idx;
    ld->batch = batch;
    ld->n_batches = drop_last ? n_idx / batch : (n_idx + batch - 1) / batch;
    /* No epoch yet: everything counts as handed out, so nothing is filled. */
    ld->taken = ld->filled = ld->released = ld->n_batches;
    ld->dim = (size_t)ds->c * (size_t)ds->h * (size_t)ds->w;
    size_t n = (size_t)CN_MAX(n_idx, 1);
    ld->idx = malloc(n * sizeof *ld->idx);
    ld->order = malloc(n * sizeof *ld->order);
    int ok = ld->idx && ld->order && ld->dim <= SIZE_MAX / sizeof(float) / (size_t)batch;
    for (int s = 0; ok && s < 2; s++) {
        ld->x[s] = malloc((size_t)batch * ld->dim * sizeof(float));
        ld->labels[s] = malloc((size_t)batch * sizeof(int));
        ok = ld->x[s] && ld->labels[s];
    }
    if (!ok) {
        size_t dim = ld->dim;
        cn_loader_free(ld);
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for batches of %d x %zu floats",
                         batch, dim);
    }
    for (int i = 0; i < n_idx; i++) /* idx NULL: every sample, in order */
        ld->idx[i] = idx ? idx[i] : i;
    memcpy(ld->order, ld->idx, (size_t)n_idx * sizeof *ld->idx);
    ld->prefetch = prefetch;
    if (prefetch) {
        pthread_mutex_init(&ld->mu, NULL);
        pthread_cond_init(&ld->work, NULL);
        pthread_cond_init(&ld->done, NULL);
        int rc = pthread_create(&ld->thread, NULL, worker, ld);
        if (rc) {
            cn_loader_free(ld);
            return cn_errorf(err, CN_ERR_NOMEM, "cannot start the loader thread: %s",
                             strerror(rc));
        }
        ld->started = 1;
    }
    *out = ld;
    return CN_OK;
}

void cn_loader_epoch(cn_loader *ld, cn_rng *rng)
{
    if (ld->prefetch) {
        pthread_mutex_lock(&ld->mu);
        while (ld->busy)
            pthread_cond_wait(&ld->done, &ld->mu);
    }
    /* Idle worker, lock held: the permutation is drawn here, on the caller's thread. */
    memcpy(ld->order, ld->idx, (size_t)ld->n_idx * sizeof *ld->idx);
    if (rng)
        cn_rng_shuffle(rng, ld->order, ld->n_idx);
    ld->taken = ld->filled = ld->released = 0;
    if (ld->prefetch) {
        pthread_cond_signal(&ld->work);
        pthread_mutex_unlock(&ld->mu);
    }
}

int cn_loader_next(cn_loader *ld, cn_batch *b)
{
    int t = ld->taken;
    if (t >= ld->n_batches) {
        b->x = NULL;
        b->labels = NULL;
        b->n = 0;
        return 0;
    }
    if (ld->prefetch) {
        pthread_mutex_lock(&ld->mu);
        ld->released = t; /* the caller is done with batch t - 1 */
        pthread_cond_signal(&ld->work);
        while (ld->filled <= t)
            pthread_cond_wait(&ld->done, &ld->mu);
        pthread_mutex_unlock(&ld->mu);
    } else {
        fill(ld, t);
    }
    b->x = ld->x[t % 2];
    b->labels = ld->labels[t % 2];
    b->n = ld->count[t % 2];
    ld->taken = t + 1;
    return 1;
}

int cn_loader_batches(const cn_loader *ld)
{
    return ld->n_batches;
}

void cn_loader_free(cn_loader *ld)
{
    if (!ld)
        return;
    if (ld->started) {
        pthread_mutex_lock(&ld->mu);
        ld->stop = 1;
        pthread_cond_signal(&ld->work);
        pthread_mutex_unlock(&ld->mu);
        pthread_join(ld->thread, NULL);
    }
    if (ld->prefetch) {
        pthread_mutex_destroy(&ld->mu);
        pthread_cond_destroy(&ld->work);
        pthread_cond_destroy(&ld->done);
    }
    for (int s = 0; s < 2; s++) {
        free(ld->x[s]);
        free(ld->labels[s]);
    }
    free(ld->idx);
    free(ld->order);
    free(ld);
}
