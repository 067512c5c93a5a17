/* pool.h - the one threading model of cnet.
 *
 * A network owns a pool of P threads (the caller plus P - 1 workers, P =
 * [net] threads, or OpenBLAS's thread count at the first network built
 * when that is 0). The layers, losses and optimizer split their work into
 * P parts with cn_pool_run - the dense products by column slabs, the
 * convolutions' im2col + GEMM and pooling by samples, element-wise losses
 * and the update by elements - and every BLAS call runs single-threaded in
 * the thread that makes it: a running network keeps OpenBLAS at one thread
 * (src/net.c), so no second thread pool ever spins against this one.
 * Part t of P always gets the same samples and partial sums are added in
 * part order, so the same seed and thread count give the same weights.
 */
#ifndef CNET_POOL_H
#define CNET_POOL_H

#include "error.h"

typedef struct cn_pool cn_pool;

/* At most this many threads (a larger request is capped). */
#define CN_POOL_MAX 64

/* fn(arg, part, parts) for part = 0 .. parts-1, each on its own thread. */
typedef void (*cn_pool_fn)(void *arg, int part, int parts);

/* A pool of `threads` (>= 1; 1 runs every task in the caller). */
cn_status cn_pool_create(int threads, cn_pool **out, cn_error *err);
void cn_pool_free(cn_pool *p);

/* Threads of the pool; 1 for NULL. */
int cn_pool_size(const cn_pool *p);

/* Run fn on every part and return when all are done; NULL runs part 0 of 1.
 * BLAS calls inside should be single-threaded (a network keeps OpenBLAS at
 * one thread). Not reentrant. */
void cn_pool_run(cn_pool *p, cn_pool_fn fn, void *arg);

/* The half-open range [*lo, *hi) of n items that part `part` of `parts` owns. */
void cn_pool_range(int n, int part, int parts, int *lo, int *hi);
/* The same over `count` elements in whole blocks of `align` (a cache line or
 * a kernel's block), so that no two parts write one line; the lower parts
 * take the remainder blocks. */
void cn_pool_share(size_t count, size_t align, int part, int parts, size_t *lo, size_t *hi);

/* p when `elements` of element-wise work are worth waking threads for,
 * else NULL (run in the caller). */
cn_pool *cn_pool_if(cn_pool *p, size_t elements);

#endif
