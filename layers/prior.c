/* prior.c - samples of a fixed prior distribution p(z), drawn afresh each
 * forward: the "real" codes an adversary learns to tell from an encoder's
 * in an adversarial autoencoder (Makhzani, Shlens, Jaitly, Goodfellow and
 * Frey, "Adversarial Autoencoders", ICLR 2016), and a generator's input.
 *
 * Legend: n samples, D the key `output`, z (n, D) the output; sigma, M
 * (components) and r (radius) the keys.
 *   gaussian     z[s][k] ~ N(0, sigma^2), independently
 *   categorical  z[s] = the one-hot vector of c_s ~ U{0, ..., D-1} (output=1
 *                gives the constant 1)
 *   mixture      j_s ~ U{0, ..., M-1}, then
 *                  z[s][0] = r cos(2 pi j_s / M) + sigma N(0, 1)
 *                  z[s][1] = r sin(2 pi j_s / M) + sigma N(0, 1)
 *                  z[s][k] = sigma N(0, 1) for k >= 2
 *                M Gaussians of std sigma on a circle of radius r in the
 *                first two dimensions (the paper's 2-D mixture of 10)
 *   backward     none: samples of a fixed distribution have no gradient, and
 *                the input (read only for the batch size) gets none
 *
 * A prior is data, not noise: it draws in training and in evaluation alike,
 * from the net's one seeded RNG, sample by sample in the order above (the
 * component or class first, then the normals dimension by dimension), so a
 * seed gives the same draws. Validation and cnet eval restore the net's RNG
 * afterwards, so they do not change the training draws; each of their
 * passes draws anew.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define TWO_PI 6.283185307179586

enum { PRIOR_GAUSSIAN, PRIOR_CATEGORICAL, PRIOR_MIXTURE };

static const cn_key keys[] = {
    {"type", CN_KEY_ENUM, "gaussian", "gaussian|categorical|mixture",
     "the distribution: N(0, sigma^2 I); one-hot of a uniform class; M Gaussians on a circle"},
    {"output", CN_KEY_INT, NULL, "[1, 65536]", "D: values per sample (mixture: >= 2)"},
    {"sigma", CN_KEY_FLOAT, "1", "[0, inf)",
     "standard deviation of gaussian, and of each mixture component"},
    {"components", CN_KEY_INT, "10", "[1, 1024]",
     "mixture: M Gaussians, centred at radius * (cos, sin)(2 pi j / M) in dimensions 0 and 1"},
    {"radius", CN_KEY_FLOAT, "4", "[0, inf)", "mixture: radius of the circle of centres"},
    CN_KEY_END};

typedef struct prior_state {
    int type;
    float sigma, radius;
    int components;
} prior_state;

/* A key the chosen type does not read is an error, as in [noise]. */
static cn_status reject(cn_sec *s, const char *key, const char *types, cn_error *err)
{
    if (!cn_sec_has(s, key))
        return CN_OK;
    return cn_sec_bad(s, key, CN_ERR_CFG, err, "applies only to %s", types);
}

static cn_status read_keys(cn_layer *l, cn_sec *s, prior_state *st, cn_error *err)
{
    int D;
    cn_status rc = cn_sec_enum(s, "type", &st->type, err);
    if (!rc)
        rc = cn_sec_int(s, "output", &D, err);
    if (rc)
        return rc;
    l->c = D, l->h = 1, l->w = 1;
    if (st->type == PRIOR_CATEGORICAL)
        rc = reject(s, "sigma", "type=gaussian and type=mixture", err);
    else
        rc = cn_sec_float(s, "sigma", &st->sigma, err);
    if (st->type != PRIOR_MIXTURE) {
        if (!rc)
            rc = reject(s, "components", "type=mixture", err);
        return rc ? rc : reject(s, "radius", "type=mixture", err);
    }
    if (!rc)
        rc = cn_sec_int(s, "components", &st->components, err);
    if (!rc)
        rc = cn_sec_float(s, "radius", &st->radius, err);
    if (!rc && D < 2)
        return cn_sec_bad(s, "output", CN_ERR_CFG, err, "layer '%s': type=mixture places its "
                          "centres in two dimensions and needs output >= 2", l->name);
    return rc;
}

static cn_status prior_setup(cn_layer *l, cn_sec *s, cn_build *b, cn_error *err)
{
    (void)b;
    prior_state *st = calloc(1, sizeof *st);
    if (!st)
        return cn_errorf(err, CN_ERR_NOMEM, "layer '%s': out of memory", l->name);
    l->state = st;
    return read_keys(l, s, st, err);
}

static void prior_forward(cn_layer *l, const cn_ctx *ctx)
{
    const prior_state *st = l->state;
    const int D = l->c;
    float *z = l->out.data; /* (n, D) */
    for (int s = 0; s < ctx->n; s++, z += D) {
        int k = 0;
        if (st->type == PRIOR_CATEGORICAL) {
            memset(z, 0, (size_t)D * sizeof *z);
            z[cn_rng_below(ctx->rng, (uint32_t)D)] = 1.0f;
            continue;
        }
        if (st->type == PRIOR_MIXTURE) {
            uint32_t j = cn_rng_below(ctx->rng, (uint32_t)st->components);
            double angle = TWO_PI * j / st->components;
            z[0] = (float)(st->radius * cos(angle)) + st->sigma * cn_rng_normal(ctx->rng);
            z[1] = (float)(st->radius * sin(angle)) + st->sigma * cn_rng_normal(ctx->rng);
            k = 2;
        }
        for (; k < D; k++)
            z[k] = st->sigma * cn_rng_normal(ctx->rng);
    }
}

static void prior_destroy(cn_layer *l)
{
    free(l->state);
    l->state = NULL;
}

const cn_layer_ops cn_layer_prior = {
    .type = "prior",
    .keys = keys,
    .doc = "samples of a fixed prior p(z), drawn each forward in training and evaluation "
           "alike from the net's seeded RNG: gaussian N(0, sigma^2 I); categorical, the "
           "one-hot of a uniform class; mixture, M Gaussians of std sigma centred on a circle "
           "of the given radius in dimensions 0 and 1 (N(0, sigma^2) in the others). The "
           "\"real\" codes of an adversarial autoencoder; reads its input only for the batch "
           "size (from=input) and passes no gradient",
    .n_inputs_min = 1,
    .n_inputs_max = 1,
    .setup = prior_setup,
    .forward = prior_forward,
    .destroy = prior_destroy,
};
